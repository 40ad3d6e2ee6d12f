import { expect, test } from "@playwright/test";
import { sharedMatrixText } from "./support/matrices.ts";
import {
  attemptOutcomes,
  jobSnapshot,
  jobsReady,
  submitJob,
  volunteerState,
  waitForJobEnd,
  waitForLinks,
} from "./support/jobs.ts";
import { closePeers, openPeers, type TestPeer } from "./support/peers.ts";

// Churn: 1 requester + 3 volunteer tabs (the requester volunteers too). A many-right-hand-side job on
// bcsstk13 (SuiteSparse, n = 2003, 83 883 nonzeros, ill-conditioned) runs one unit per right-hand side; a
// volunteer tab is closed while it computes one of them. The requester reissues that volunteer's units and
// the job completes, every unit certified by the requester's own residual check.

const TOL = 1e-8;
let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("a many-rhs job on bcsstk13 completes with certified residuals after a volunteer tab closes", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const matrixText = sharedMatrixText("bcsstk13");
  peers = await openPeers(browser, 4);
  const [requester, ...volunteers] = peers as [TestPeer, TestPeer, TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(
    requester.page,
    volunteers.map((v) => v.peerId),
  );

  const jobId = await submitJob(requester.page, {
    name: "bcsstk13 × 12 random rhs",
    kind: "multi-rhs",
    matrix: { kind: "matrix-market", text: matrixText },
    rhs: { kind: "random", count: 12 },
    method: "cg",
    tol: TOL,
    maxIter: 20_000,
  });

  // The victim: the first volunteer tab seen computing a unit of this requester.
  let victim: TestPeer | null = null;
  await expect
    .poll(
      async () => {
        for (const v of volunteers) {
          const s = await volunteerState(v.page);
          if (s.status === "computing" && s.current?.requesterId === requester.peerId) {
            victim = v;
            return true;
          }
        }
        return false;
      },
      { timeout: 30_000, intervals: [50] },
    )
    .toBe(true);
  await victim!.context.close();

  const end = await waitForJobEnd(requester.page, jobId, 75_000);
  expect(end.job!.status).toBe("done");
  expect(end.units).toHaveLength(12);
  for (const unit of end.units) {
    expect(unit.verification).toBe("verified");
    expect(unit.relResidual).not.toBeNull();
    expect(unit.relResidual!).toBeLessThanOrEqual(TOL);
  }
  expect(end.job!.worstRelResidual!).toBeLessThanOrEqual(TOL);
  // Spread over the swarm: units were verified from several volunteers.
  expect(new Set(end.units.map((u) => u.volunteerId)).size).toBeGreaterThanOrEqual(2);
  // The churn happened: some attempt ended because its volunteer went away.
  const outcomes = await attemptOutcomes(requester.page, jobId);
  expect(outcomes.some((o) => o === "disconnected" || o === "heartbeat-timeout")).toBe(true);
  // The solutions the user downloads are the certified ones, one per right-hand side.
  const lengths = await requester.page.evaluate(
    async (id) => (await window.openSwarm!.jobs.getState().actions.solutions(id)).map((x) => x.length),
    jobId,
  );
  expect(lengths).toEqual(Array.from({ length: 12 }, () => 2003));
});

// Distributed: the same swarm solves bcsstk13 as one system in 3 row blocks (distributed PCG with block
// IC(0), src/core/distributed). A volunteer tab holding a block is closed mid-solve: the requester's
// scheduler reissues that block's unit, the new holder gets the block's data and every block restarts from
// the last consistent checkpoint; the gathered x is certified by the requester.
test("a distributed solve of bcsstk13 in 3 blocks completes after a volunteer tab holding a block closes", async ({
  browser,
}) => {
  test.setTimeout(150_000);
  const matrixText = sharedMatrixText("bcsstk13");
  peers = await openPeers(browser, 4);
  const [requester, ...volunteers] = peers as [TestPeer, TestPeer, TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(
    requester.page,
    volunteers.map((v) => v.peerId),
  );

  const jobId = await submitJob(requester.page, {
    name: "bcsstk13 distributed × 3",
    kind: "distributed-solve",
    matrix: { kind: "matrix-market", text: matrixText },
    rhs: { kind: "ones" },
    method: "cg",
    tol: TOL,
    maxIter: 20_000,
    blocks: 3,
  });

  // Mid-solve (the coordinator has run some iterations), pick a volunteer tab that holds a block.
  let victim: TestPeer | null = null;
  let victimBlock = -1;
  await expect
    .poll(
      async () => {
        const snap = await jobSnapshot(requester.page, jobId);
        const history = await requester.page.evaluate(
          (id) => window.openSwarm!.jobs.getState().residualSeries[id]?.[0]?.points.length ?? 0,
          jobId,
        );
        if (history < 60 || snap.job?.status !== "running") return false;
        for (const u of snap.units) {
          const holder = volunteers.find((v) => v.peerId === u.volunteerId);
          if (u.status === "leased" && holder !== undefined) {
            victim = holder;
            victimBlock = u.index;
            return true;
          }
        }
        return false;
      },
      { timeout: 60_000, intervals: [50] },
    )
    .toBe(true);
  const victimId = victim!.peerId;
  await victim!.context.close();

  const end = await waitForJobEnd(requester.page, jobId, 120_000);
  expect(end.job!.status).toBe("done");
  expect(end.units).toHaveLength(3);
  for (const unit of end.units) {
    expect(unit.verification).toBe("verified");
    expect(unit.relResidual!).toBeLessThanOrEqual(TOL);
  }
  expect(end.job!.worstRelResidual!).toBeLessThanOrEqual(TOL);
  // The failover happened: the victim's block was reissued to someone else, and the coordinator restarted.
  const moved = end.units.find((u) => u.index === victimBlock)!;
  expect(moved.attempt).toBeGreaterThan(1);
  expect(moved.volunteerId).not.toBe(victimId);
  const stats = await requester.page.evaluate(
    (id) => window.openSwarm!.jobs.runtime()!.distributedStats(id),
    jobId,
  );
  console.log(`distributed churn: block ${victimBlock} moved; ${JSON.stringify(stats)}`);
  expect(stats!.failovers).toBeGreaterThanOrEqual(1);
  expect(stats!.relResidual).toBeLessThanOrEqual(TOL);
  const outcomes = await attemptOutcomes(requester.page, jobId);
  expect(outcomes.some((o) => o === "disconnected" || o === "heartbeat-timeout")).toBe(true);
  // The downloadable x is the certified one (one vector of n entries).
  const lengths = await requester.page.evaluate(
    async (id) => (await window.openSwarm!.jobs.getState().actions.solutions(id)).map((x) => x.length),
    jobId,
  );
  expect(lengths).toEqual([2003]);
});
