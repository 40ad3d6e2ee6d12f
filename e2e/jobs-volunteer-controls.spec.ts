import { expect, test } from "@playwright/test";
import {
  jobSnapshot,
  jobsReady,
  submitJob,
  volunteerState,
  waitForJobEnd,
  waitForLinks,
} from "./support/jobs.ts";
import { closePeers, openPeers, type TestPeer } from "./support/peers.ts";

// The person at a volunteer tab stays in charge: Pause stops the unit being computed within a second (the
// solver worker's cancel flag, or terminating it), the unit goes back to the requester at once and is
// computed elsewhere; new units are declined while paused.

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("pause stops the running unit within 1 s and the requester reissues it", async ({ browser }) => {
  test.setTimeout(90_000);
  peers = await openPeers(browser, 2);
  const [requester, vol] = peers as [TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(requester.page, [vol.peerId]);
  // Only the other tab computes at first: the requester's own volunteer is paused.
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());

  const jobId = await submitJob(requester.page, {
    name: "poisson2d-250, a few seconds of CG",
    kind: "solve",
    matrix: { kind: "generated", name: "poisson2d-250" },
    rhs: { kind: "random", count: 1 },
    method: "cg",
    tol: 1e-10,
    maxIter: 50_000,
  });
  await expect
    .poll(async () => (await volunteerState(vol.page)).current?.iteration ?? 0, {
      timeout: 30_000,
      intervals: [50],
    })
    .toBeGreaterThan(0);

  const stoppedAfterMs = await vol.page.evaluate(async () => {
    const store = window.openSwarm!.volunteer;
    const start = performance.now();
    store.getState().actions.pause();
    // `current` clears when the solver's outcome is in, i.e. when the worker really stopped.
    while (store.getState().current !== null) {
      if (performance.now() - start > 5_000) return Infinity;
      await new Promise((r) => setTimeout(r, 10));
    }
    return performance.now() - start;
  });
  expect(stoppedAfterMs).toBeLessThan(1_000);
  expect((await volunteerState(vol.page)).status).toBe("paused");

  // The requester took the unit back (not charged) and the paused tab declines it; resuming the
  // requester's own volunteer completes the job.
  await expect
    .poll(async () =>
      requester.page.evaluate((id) => {
        const rt = window.openSwarm!.jobs.runtime();
        return (rt?.units(id) ?? []).flatMap((u) => u.history.map((h) => `${h.outcome}:${h.charged}`));
      }, jobId),
    )
    .toContain("declined:false");
  expect((await jobSnapshot(requester.page, jobId)).job!.status).toBe("running");
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.resume());
  const end = await waitForJobEnd(requester.page, jobId, 60_000);
  expect(end.job!.status).toBe("done");
  expect(end.units[0]!.volunteerId).toBe(requester.peerId);
  expect(end.units[0]!.relResidual!).toBeLessThanOrEqual(1e-10);
});
