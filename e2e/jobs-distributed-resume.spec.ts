import { expect, test } from "@playwright/test";
import { sharedMatrixText } from "./support/matrices.ts";
import { jobsReady, submitJob, waitForJobEnd, waitForLinks } from "./support/jobs.ts";
import { closePeers, openPeers, type TestPeer } from "./support/peers.ts";
import type { JobSubmission } from "../src/state/jobs/types.ts";

// Issue 12 item 4: a distributed solve whose requester tab reloads mid-solve resumes from the coordinator's
// last persisted checkpoint (IndexedDB, jobs/distributed/checkpoint-blob.ts) instead of from zero. The
// same system is first solved cold, to read how many iterations a restart from zero takes; then the
// requester of a second solve reloads right after its first checkpoint is in IndexedDB, and the resumed
// solve completes certified in fewer iterations than the cold one.

const TOL = 1e-8;
let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("a distributed solve whose requester reloads resumes from the checkpoint (fewer total iterations than a restart)", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const submission = (name: string): JobSubmission => ({
    name,
    kind: "distributed-solve",
    matrix: { kind: "matrix-market", text: sharedMatrixText("bcsstk13") },
    rhs: { kind: "ones" },
    method: "cg",
    tol: TOL,
    maxIter: 20_000,
    blocks: 2,
  });
  peers = await openPeers(browser, 3);
  const [requester, ...volunteers] = peers as [TestPeer, TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(
    requester.page,
    volunteers.map((v) => v.peerId),
  );
  const stats = (id: string) =>
    requester.page.evaluate((jobId) => window.openSwarm!.jobs.runtime()!.distributedStats(jobId), id);

  // The cold solve: how many iterations a restart from zero takes (read from this run).
  const coldId = await submitJob(requester.page, submission("bcsstk13 distributed cold"));
  expect((await waitForJobEnd(requester.page, coldId, 60_000)).job!.status).toBe("done");
  const cold = (await stats(coldId))!;
  expect(cold.resumedFrom).toBe(0);
  // Peer halo routing by default: the holders linked to each other through the overlay (halo-links.ts),
  // and no checkpoint audit found a reason to fall back to coordinator routing.
  expect(cold.haloRouting).toBe("peer");
  expect(cold.peerFallbacks).toBe(0);

  // The second solve. Forced: the moment a checkpoint a quarter of the way is in IndexedDB (and the solve
  // still runs), the requester's runtime stops in the same task, so the reload cannot land after the end.
  const jobId = await submitJob(requester.page, submission("bcsstk13 distributed, requester reloads"));
  const atLeast = Math.floor(cold.iterations / 4);
  const atReload = await requester.page.evaluate(
    async ({ id, atLeast }) => {
      const rt = window.openSwarm!.jobs.runtime()!;
      while ((rt.distributedCheckpoint(id).persisted ?? 0) < atLeast) {
        if (rt.scheduler.job(id)?.status !== "running") break;
        await new Promise((r) => setTimeout(r, 5));
      }
      const persisted = rt.distributedCheckpoint(id).persisted;
      const status = rt.scheduler.job(id)?.status ?? "missing";
      const lastIteration = rt.residualSeries(id)[0]?.points.at(-1)?.iteration ?? 0;
      rt.close();
      return { persisted, status, lastIteration };
    },
    { id: jobId, atLeast },
  );
  expect(atReload.status).toBe("running");
  expect(atReload.persisted).toBeGreaterThanOrEqual(atLeast);
  // Item 2: the blocks computed in Web Workers of the volunteer tabs (one per block held), not on their
  // main threads.
  const blockWorkers = peers.flatMap((p) => p.page.workers()).filter((w) => w.url().includes("block.worker"));
  expect(blockWorkers.length).toBeGreaterThanOrEqual(2);
  await requester.page.reload();
  await jobsReady(requester.page);
  await waitForLinks(
    requester.page,
    volunteers.map((v) => v.peerId),
  );

  const end = await waitForJobEnd(requester.page, jobId, 60_000);
  expect(end.job!.status).toBe("done");
  for (const unit of end.units) {
    expect(unit.verification).toBe("verified");
    expect(unit.relResidual!).toBeLessThanOrEqual(TOL);
  }
  const resumed = (await stats(jobId))!;
  // Resumed from the persisted checkpoint (a write in flight at the stop may have stored a later one).
  expect(resumed.resumedFrom).toBeGreaterThanOrEqual(atReload.persisted!);
  expect(resumed.relResidual).toBeLessThanOrEqual(TOL);
  const after = resumed.iterations - resumed.resumedFrom;
  console.log(
    `distributed resume: cold ${cold.iterations} iterations; reload at iteration ${atReload.lastIteration}, ` +
      `resumed from checkpoint ${resumed.resumedFrom}, ${after} more; ` +
      `total ${atReload.lastIteration + after} against ${atReload.lastIteration + cold.iterations} for a restart`,
  );
  // Fewer total iterations than a restart: those before the reload plus these, against those plus a cold solve.
  expect(after).toBeLessThan(cold.iterations);
});
