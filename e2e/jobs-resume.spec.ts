import { expect, test, type Page } from "@playwright/test";
import { sharedMatrixText } from "./support/matrices.ts";
import { jobSnapshot, jobsReady, submitJob, waitForJobEnd, waitForLinks } from "./support/jobs.ts";
import { closePeers, openPeers, type TestPeer } from "./support/peers.ts";

// Resume: the requester tab reloads in the middle of a job. The job, its units, their results and the
// volunteers' reputations are in IndexedDB; after the reload the requester resumes the job (leased units
// are reissued under new attempt numbers) and completes it, and no unit verified before the reload is
// computed again: its attempt number is unchanged and no tab sent another result for it.

const TOL = 1e-8;
const RHS = 24;
let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

function resultsSent(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => ({ ...(window.openSwarm!.volunteer.getState().resultsSent ?? {}) }));
}

test("a requester reload mid-job resumes from IndexedDB without recomputing verified units", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const matrixText = sharedMatrixText("bcsstk13");
  peers = await openPeers(browser, 3);
  const [requester, ...volunteers] = peers as [TestPeer, TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(
    requester.page,
    volunteers.map((v) => v.peerId),
  );
  // A duty cycle on every tab stretches the job over several seconds, so the reload lands mid-job.
  for (const p of peers) {
    await p.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.setCpuShare(0.3));
  }

  const jobId = await submitJob(requester.page, {
    name: `bcsstk13 × ${RHS} random rhs`,
    kind: "multi-rhs",
    matrix: { kind: "matrix-market", text: matrixText },
    rhs: { kind: "random", count: RHS },
    method: "cg",
    tol: TOL,
    maxIter: 20_000,
  });
  await expect
    .poll(
      async () => (await jobSnapshot(requester.page, jobId)).units.filter((u) => u.status === "done").length,
      {
        timeout: 40_000,
        intervals: [50],
      },
    )
    .toBeGreaterThanOrEqual(4);
  const before = await jobSnapshot(requester.page, jobId);
  const sentBefore = await Promise.all(peers.map((p) => resultsSent(p.page)));
  await requester.page.reload();
  await jobsReady(requester.page);
  // Issue 11 item 6: after the reload the running job is selected (nothing was, before).
  await expect
    .poll(() => requester.page.evaluate(() => window.openSwarm!.jobs.getState().selectedJobId))
    .toBe(jobId);
  const doneBefore = before.units.filter((u) => u.status === "done");
  expect(doneBefore.length).toBeLessThan(RHS); // the reload really was mid-job

  // Resumed from IndexedDB: the job is there and running (or already finishing).
  await expect
    .poll(async () => (await jobSnapshot(requester.page, jobId)).job?.status ?? "missing")
    .not.toBe("missing");
  await waitForLinks(
    requester.page,
    volunteers.map((v) => v.peerId),
  );
  const end = await waitForJobEnd(requester.page, jobId, 60_000);
  expect(end.job!.status).toBe("done");
  expect(end.units).toHaveLength(RHS);
  for (const unit of end.units) {
    expect(unit.verification).toBe("verified");
    expect(unit.relResidual!).toBeLessThanOrEqual(TOL);
  }
  // Units verified before the reload: same attempt, no new result from any tab.
  const sentAfterVolunteers = await Promise.all(volunteers.map((v) => resultsSent(v.page)));
  const sentAfterRequester = await resultsSent(requester.page);
  for (const u of doneBefore) {
    const afterUnit = end.units.find((x) => x.id === u.id)!;
    expect(afterUnit.attempt).toBe(u.attempt);
    expect(afterUnit.volunteerId).toBe(u.volunteerId);
    volunteers.forEach((_, i) =>
      expect(sentAfterVolunteers[i]![u.id] ?? 0).toBe(sentBefore[i + 1]![u.id] ?? 0),
    );
    expect(sentAfterRequester[u.id] ?? 0).toBe(0);
  }
  // Work after the reload was needed and done: some units were reissued with a later attempt.
  expect(end.units.some((u) => !doneBefore.some((d) => d.id === u.id))).toBe(true);
});
