import { expect, test } from "@playwright/test";
import { sharedMatrixText } from "./support/matrices.ts";
import { jobsReady, submitJob, waitForJobEnd } from "./support/jobs.ts";
import { closePeers, openPeers, type TestPeer } from "./support/peers.ts";

// The overlay (issue 12): tabs dial on demand. A requester whose own volunteer is paused can only finish a
// job on volunteers it recruited from the directory (no test code links anyone), and two volunteers, which
// have no work with each other, never link.

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

function linkedWith(peer: TestPeer): Promise<string[]> {
  return peer.page.evaluate(async () =>
    (await window.openSwarm!.ready).mesh.linkStats().map((link) => link.peerId),
  );
}

test("a requester recruits its volunteers by directory query; volunteers do not link with each other", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  peers = await openPeers(browser, 3);
  const [requester, v1, v2] = peers as [TestPeer, TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
  // The query answers from the directory: wait until it lists both volunteers.
  await expect
    .poll(() => requester.page.evaluate(() => window.openSwarm!.store.getState().peers.length))
    .toBe(2);

  const jobId = await submitJob(requester.page, {
    name: "overlay LFAT5",
    kind: "multi-rhs",
    matrix: { kind: "matrix-market", text: sharedMatrixText("LFAT5") },
    rhs: { kind: "random", count: 4 },
    method: "cg",
    tol: 1e-8,
    maxIter: 1_000,
  });
  const end = await waitForJobEnd(requester.page, jobId, 45_000);
  expect(end.job?.status).toBe("done");
  const doneBy = new Set(end.units.filter((u) => u.status === "done").map((u) => u.volunteerId));
  expect(doneBy.size).toBeGreaterThan(0);
  for (const id of doneBy) expect([v1.peerId, v2.peerId]).toContain(id);

  expect(await linkedWith(v1)).not.toContain(v2.peerId);
  expect(await linkedWith(v2)).not.toContain(v1.peerId);
  await expect(requester.page.getByTestId("peer-count")).toHaveText("2");
});
