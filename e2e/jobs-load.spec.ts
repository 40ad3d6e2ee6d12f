import { expect, test, type Page } from "@playwright/test";
import { sharedMatrixText } from "./support/matrices.ts";
import type { JobSubmission } from "../src/state/jobs/types.ts";
import { jobsReady, waitForLinks } from "./support/jobs.ts";
import { closePeers, openPeers, type TestPeer } from "./support/peers.ts";

// Load: two requesters submit 10 small jobs each at the same moment (20 in all: generated 2D Poisson
// systems and the SuiteSparse LFAT5), and a third tab volunteers too. Every job completes, every unit
// certified by its own requester.

const TOL = 1e-8;
let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

function submitAll(page: Page, submissions: JobSubmission[]): Promise<string[]> {
  return page.evaluate(
    (list) => Promise.all(list.map((s) => window.openSwarm!.jobs.getState().actions.submit(s))),
    submissions,
  );
}

function statuses(page: Page, ids: string[]) {
  return page.evaluate((ids) => {
    const state = window.openSwarm!.jobs.getState();
    return ids.map((id) => {
      const job = state.jobs.find((j) => j.id === id);
      return {
        status: job?.status ?? "missing",
        worst: job?.worstRelResidual ?? null,
        done: job?.unitsDone ?? 0,
      };
    });
  }, ids);
}

test("20 small jobs submitted at once from two requesters all complete", async ({ browser }) => {
  test.setTimeout(90_000);
  const lfat5 = sharedMatrixText("LFAT5");
  peers = await openPeers(browser, 3);
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  const [a, b, c] = peers as [TestPeer, TestPeer, TestPeer];
  await waitForLinks(a.page, [b.peerId, c.peerId]);
  await waitForLinks(b.page, [a.peerId, c.peerId]);

  const make = (who: string, i: number): JobSubmission =>
    i % 3 === 2
      ? {
          name: `${who}-${i} LFAT5`,
          kind: "multi-rhs",
          matrix: { kind: "matrix-market", text: lfat5 },
          rhs: { kind: "random", count: 2 },
          method: "cg",
          tol: TOL,
          maxIter: 1_000,
        }
      : {
          name: `${who}-${i} poisson2d-${20 + i}`,
          kind: "solve",
          matrix: { kind: "generated", name: `poisson2d-${20 + i}` },
          rhs: { kind: "ones" },
          method: "cg",
          tol: TOL,
          maxIter: 5_000,
        };
  const [idsA, idsB] = await Promise.all([
    submitAll(
      a.page,
      Array.from({ length: 10 }, (_, i) => make("a", i)),
    ),
    submitAll(
      b.page,
      Array.from({ length: 10 }, (_, i) => make("b", i)),
    ),
  ]);
  expect(new Set([...idsA, ...idsB]).size).toBe(20);

  for (const [page, ids] of [
    [a.page, idsA],
    [b.page, idsB],
  ] as const) {
    await expect
      .poll(async () => (await statuses(page, ids)).filter((s) => s.status === "done").length, {
        timeout: 60_000,
        intervals: [250],
      })
      .toBe(10);
    for (const s of await statuses(page, ids)) {
      expect(s.status).toBe("done");
      expect(s.worst).not.toBeNull();
      expect(s.worst!).toBeLessThanOrEqual(TOL);
    }
  }
  // The work really was spread: the third tab, which submitted nothing, computed units for both requesters.
  const served = await c.page.evaluate(() => window.openSwarm!.volunteer.getState().requestersServed);
  expect(served).toEqual(expect.arrayContaining([a.peerId, b.peerId]));
});
