import { expect, test } from "@playwright/test";
import { sharedMatrixText } from "./support/matrices.ts";
import {
  attemptOutcomes,
  jobsReady,
  submitJob,
  volunteerState,
  waitForJobEnd,
  waitForLinks,
} from "./support/jobs.ts";
import { closePeers, openPeer, openPeers, type TestPeer } from "./support/peers.ts";

// A malicious volunteer: one tab runs the test-only FaultInjection "perturb" mode (?test=1&fault=perturb)
// and returns solutions moved by a relative 1e-3 with the solver's original claims. The requester's own
// f64 residual check rejects every one of them; the volunteer's reputation drops until it is banned and
// gets no more work, and the job completes from the honest volunteers.

const TOL = 1e-8;
let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("perturbed results are never accepted; the faulty volunteer is banned and the job completes", async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const matrixText = sharedMatrixText("bcsstk13");
  const honest = await openPeers(browser, 3);
  const liar = await openPeer(browser, "/?test=1&fault=perturb");
  peers = [...honest, liar];
  const requester = honest[0]!;
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(
    requester.page,
    peers.filter((p) => p !== requester).map((p) => p.peerId),
  );

  const submission = {
    name: "bcsstk13 × 16 random rhs",
    kind: "multi-rhs" as const,
    matrix: { kind: "matrix-market" as const, text: matrixText },
    rhs: { kind: "random" as const, count: 16 },
    method: "cg" as const,
    tol: TOL,
    maxIter: 20_000,
  };
  // The liar gets units until its reputation bans it. How many it receives per job depends on timing (the
  // scheduler prefers fast volunteers), so keep submitting jobs (at most 4) until it is banned; every job must
  // complete with only verified results from honest volunteers.
  const jobIds: string[] = [];
  let stats: Awaited<ReturnType<typeof liarStats>> = null;
  const liarStats = () =>
    requester.page.evaluate(
      (id) => window.openSwarm!.jobs.getState().volunteers.find((v) => v.peerId === id) ?? null,
      liar.peerId,
    );
  for (let round = 0; round < 4 && !stats?.banned; round++) {
    const jobId = await submitJob(requester.page, {
      ...submission,
      name: `${submission.name} #${round + 1}`,
    });
    jobIds.push(jobId);
    const end = await waitForJobEnd(requester.page, jobId, 70_000);
    expect(end.job!.status).toBe("done");
    for (const unit of end.units) {
      expect(unit.verification).toBe("verified");
      expect(unit.relResidual!).toBeLessThanOrEqual(TOL);
      expect(unit.volunteerId).not.toBe(liar.peerId);
    }
    stats = await liarStats();
  }
  // The liar did send results, and every one was rejected.
  const liarSent = Object.values((await volunteerState(liar.page)).resultsSent ?? {}).reduce(
    (s, n) => s + n,
    0,
  );
  expect(liarSent).toBeGreaterThanOrEqual(3);
  const outcomes = (await Promise.all(jobIds.map((id) => attemptOutcomes(requester.page, id)))).flat();
  expect(outcomes.filter((o) => o === "invalid-result").length).toBeGreaterThanOrEqual(3);
  expect(stats).not.toBeNull();
  expect(stats!.totalValid).toBe(0);
  expect(stats!.totalInvalid).toBeGreaterThanOrEqual(3);
  expect(stats!.consecutiveValid).toBe(0);
  expect(stats!.banned).toBe(true);

  // Banned: a second job is computed without it.
  const sentBefore = liarSent;
  const second = await submitJob(requester.page, {
    ...submission,
    name: "after the ban",
    rhs: { kind: "random", count: 6 },
  });
  const end2 = await waitForJobEnd(requester.page, second, 40_000);
  expect(end2.job!.status).toBe("done");
  const history2 = await requester.page.evaluate((id) => {
    const rt = window.openSwarm!.jobs.runtime();
    return (rt?.units(id) ?? []).flatMap((u) => [
      u.lease?.volunteerId,
      u.result?.volunteerId,
      ...u.history.map((h) => h.volunteerId),
    ]);
  }, second);
  expect(history2).not.toContain(liar.peerId);
  const liarSentAfter = Object.values((await volunteerState(liar.page)).resultsSent ?? {}).reduce(
    (s, n) => s + n,
    0,
  );
  expect(liarSentAfter).toBe(sentBefore);
});
