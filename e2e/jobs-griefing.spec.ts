import { expect, test, type Page } from "@playwright/test";
import { sharedMatrixText } from "./support/matrices.ts";
import {
  jobSnapshot,
  jobsReady,
  submitJob,
  volunteerState,
  waitForJobEnd,
  waitForLinks,
} from "./support/jobs.ts";
import { closePeers, openPeer, openPeers, type TestPeer } from "./support/peers.ts";

// Lying clients that are not our app's honest volunteers (test-only FaultInjection modes, under ?test=1):
//  - griefers (?fault=grief) that announce a huge benchmark to attract work and answer every unit with
//    x = 0, "did not converge, residual 1" (issue 10, item 7);
//  - a distributed block holder (?fault=block-lie) that sends finite wrong values in every reply (item 8).
// In each test the liars are forced to get work first, and the test checks that they did.

const TOL = 1e-8;
let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

function volunteerStats(page: Page, peerId: string) {
  return page.evaluate(
    (id) => window.openSwarm!.jobs.getState().volunteers.find((v) => v.peerId === id) ?? null,
    peerId,
  );
}

function pauseOwnVolunteer(page: Page): Promise<void> {
  return page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());
}

/** Outcomes and details of the attempts `peerId` made on the job's units (requester's scheduler). */
function attemptsOf(page: Page, jobId: string, peerId: string) {
  return page.evaluate(
    ({ jobId, peerId }) =>
      (window.openSwarm!.jobs.runtime()?.units(jobId) ?? []).flatMap((u) =>
        u.history
          .filter((h) => h.volunteerId === peerId)
          .map((h) => ({ outcome: h.outcome, detail: h.detail })),
      ),
    { jobId, peerId },
  );
}

test("two griefers with a huge benchmark get work first, are banned, and the job completes", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const requester = await openPeer(browser);
  const griefers = await Promise.all([0, 1].map(() => openPeer(browser, "/?test=1&fault=grief")));
  peers = [requester, ...griefers];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(
    requester.page,
    griefers.map((g) => g.peerId),
  );
  // The lie in the directory: each griefer announces 10^7 MFLOP/s; wait until the requester sees it.
  for (const g of griefers) {
    await g.page.evaluate(async () => {
      const swarm = await window.openSwarm!.ready;
      swarm.directory.updateCapabilities({ ...swarm.capabilities, benchmarkMflops: 1e7 });
    });
  }
  await expect
    .poll(
      () =>
        requester.page.evaluate(
          (ids) =>
            window.openSwarm!.swarm!.directory.peers.filter(
              (p) => ids.includes(p.peerId) && p.capabilities.benchmarkMflops === 1e7,
            ).length,
          griefers.map((g) => g.peerId),
        ),
      { timeout: 20_000 },
    )
    .toBe(2);
  // Forced: the requester's own volunteer is paused and no honest tab is there yet, so the griefers get
  // the job's units first.
  await pauseOwnVolunteer(requester.page);
  const jobId = await submitJob(requester.page, {
    name: "494_bus × 12 random rhs",
    kind: "multi-rhs",
    matrix: { kind: "matrix-market", text: sharedMatrixText("494_bus") },
    rhs: { kind: "random", count: 12 },
    method: "cg",
    tol: TOL,
    maxIter: 20_000,
  });
  for (const g of griefers) {
    await expect
      .poll(async () => (await volunteerStats(requester.page, g.peerId))?.banned ?? false, {
        timeout: 30_000,
      })
      .toBe(true);
  }
  for (const g of griefers) {
    const stats = (await volunteerStats(requester.page, g.peerId))!;
    expect(stats.totalInvalid).toBeGreaterThanOrEqual(3);
    expect(stats.totalValid).toBe(0);
    const sent = Object.values((await volunteerState(g.page)).resultsSent ?? {}).reduce((s, n) => s + n, 0);
    expect(sent).toBeGreaterThanOrEqual(3); // the forced step: it did get work, and answered it
    const attempts = await attemptsOf(requester.page, jobId, g.peerId);
    expect(attempts.filter((a) => a.outcome === "invalid-result").length).toBeGreaterThanOrEqual(1);
    expect(attempts.some((a) => /made no progress/.test(a.detail))).toBe(true);
  }
  expect((await jobSnapshot(requester.page, jobId)).job!.status).toBe("running"); // not failed

  // Honest capacity arrives: one honest tab, and the requester's own volunteer resumes.
  const honest = await openPeer(browser);
  peers.push(honest);
  await jobsReady(honest.page);
  await waitForLinks(requester.page, [honest.peerId]);
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.resume());
  const end = await waitForJobEnd(requester.page, jobId, 60_000);
  expect(end.job!.status).toBe("done");
  expect(end.units).toHaveLength(12);
  for (const unit of end.units) {
    expect(unit.verification).toBe("verified");
    expect(unit.relResidual!).toBeLessThanOrEqual(TOL);
    expect(griefers.map((g) => g.peerId)).not.toContain(unit.volunteerId);
  }
});

test("a distributed block holder sending finite wrong values is blamed and banned; the solve completes", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const [requester, honest] = await openPeers(browser, 2);
  const liar = await openPeer(browser, "/?test=1&fault=block-lie");
  peers = [requester!, honest!, liar];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(requester!.page, [honest!.peerId, liar.peerId]);
  // Forced: 3 blocks for 3 volunteers, and blocks of one solve go to distinct volunteers while there are
  // enough of them, so the liar holds one (the requester's own volunteer is paused: its block moves on).
  await pauseOwnVolunteer(requester!.page);
  const jobId = await submitJob(requester!.page, {
    name: "poisson2d-40 distributed × 3 with a saboteur",
    kind: "distributed-solve",
    matrix: { kind: "generated", name: "poisson2d-40" },
    rhs: { kind: "ones" },
    method: "cg",
    tol: TOL,
    maxIter: 5_000,
    blocks: 3,
  });
  await expect
    .poll(async () => (await volunteerStats(requester!.page, liar.peerId))?.banned ?? false, {
      timeout: 40_000,
    })
    .toBe(true);
  // The forced step happened: the liar held a block, and the audit named it.
  const attempts = await attemptsOf(requester!.page, jobId, liar.peerId);
  expect(attempts.map((a) => a.outcome)).toContain("invalid-result");
  expect(attempts.find((a) => a.outcome === "invalid-result")!.detail).toMatch(/block audit/);
  await requester!.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.resume());

  const end = await waitForJobEnd(requester!.page, jobId, 60_000);
  expect(end.job!.status).toBe("done");
  for (const unit of end.units) {
    expect(unit.verification).toBe("verified");
    expect(unit.relResidual!).toBeLessThanOrEqual(TOL);
    expect(unit.volunteerId).not.toBe(liar.peerId);
  }
  const stats = await requester!.page.evaluate(
    (id) => window.openSwarm!.jobs.runtime()!.distributedStats(id),
    jobId,
  );
  expect(stats!.blamed).toBe(1);
  expect(stats!.relResidual).toBeLessThanOrEqual(TOL);
  // Only the liar was blamed.
  expect((await volunteerStats(requester!.page, honest!.peerId))?.totalInvalid ?? 0).toBe(0);
  expect((await volunteerStats(requester!.page, liar.peerId))!.banned).toBe(true);
});
