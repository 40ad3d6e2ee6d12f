import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { jobsReady, submitJob, waitForJobEnd, waitForLinks } from "./support/jobs.ts";
import { closePeers, openPeer, openPeers, type TestPeer } from "./support/peers.ts";
import { FASHION_TEST_IMAGES } from "../src/node/fashion-mnist.ts";

// What a volunteer app offers (issue 11), between two real tabs over WebRTC: the volunteer tab's unit log
// lists the units it computed, each labelled "verified" once the requester's signed unit-verdict arrives;
// its measured CPU use is above zero; the requester exports the finished job as JSON and deletes it, and a
// reload (real IndexedDB) does not bring it back. A tab hosting experts lists the batches it ran for another
// tab's classify job beside its solve units.

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("unit log with verified entries, CPU used, job export and delete", async ({ browser }) => {
  test.setTimeout(40_000);
  peers = await openPeers(browser, 2);
  const [requester, vol] = peers as [TestPeer, TestPeer];
  await Promise.all(peers.map((p) => jobsReady(p.page)));
  await waitForLinks(requester.page, [vol.peerId]);
  // Force the situation: the requester's own volunteer is paused, so every unit is computed by `vol`.
  await requester.page.evaluate(() => window.openSwarm!.volunteer.getState().actions.pause());

  const jobId = await submitJob(requester.page, {
    name: "volunteer-app",
    kind: "multi-rhs",
    matrix: { kind: "generated", name: "poisson2d-40" },
    rhs: { kind: "random", count: 3, seed: 11 },
    method: "cg",
    tol: 1e-8,
    maxIter: 10_000,
  });
  const end = await waitForJobEnd(requester.page, jobId, 25_000);
  expect(end.job!.status).toBe("done");
  expect(end.units.every((u) => u.volunteerId === vol.peerId)).toBe(true);

  // The volunteer tab (on Contribute): one log row per unit, each verified by the requester's verdict.
  const verified = vol.page.locator('[data-testid="unit-log-row"][data-outcome="verified"]');
  await expect(verified).toHaveCount(end.units.length);
  const logged = await verified.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-unit")).sort());
  expect(logged).toEqual(end.units.map((u) => u.id).sort());
  await expect(verified.first()).toContainText(requester.peerId.slice(0, 10));
  await expect(verified.first()).toContainText("solve unit");
  // CPU actually used, measured: it computed, so the last minute's busy fraction is above zero.
  const used = vol.page.getByTestId("volunteer-cpu-used");
  await expect(used).toBeVisible();
  expect(Number(await used.getAttribute("data-fraction"))).toBeGreaterThan(0);

  // The requester's Dashboard: export the job as JSON.
  const page = requester.page;
  await page.evaluate(() => (location.hash = "#/dashboard"));
  await page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`).click();
  await expect(page.getByTestId("job-detail")).toHaveAttribute("data-job-id", jobId);
  const download = page.waitForEvent("download");
  await page.getByTestId("job-export").click();
  const file = await (await download).path();
  const doc = JSON.parse(await readFile(file, "utf8")) as {
    format: string;
    job: { id: string; spec: { rhs: unknown[] } };
    units: { id: string; status: string }[];
    certifiedRelResiduals: number[];
    downloads: { page: string };
  };
  expect(doc.format).toBe("open-swarm-job/1");
  expect(doc.job.id).toBe(jobId);
  expect(doc.job.spec.rhs).toHaveLength(3);
  expect(doc.units.map((u) => u.status)).toEqual(end.units.map(() => "done"));
  expect(doc.certifiedRelResiduals).toHaveLength(3);
  for (const r of doc.certifiedRelResiduals) expect(r).toBeLessThanOrEqual(1e-8);
  expect(doc.downloads.page).toContain("#/dashboard");

  // Delete it (confirming the dialog): gone from the list, and still gone after a reload.
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByTestId("job-delete").click();
  await expect(page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`)).toHaveCount(0);
  await page.reload();
  await jobsReady(page);
  await expect(page.getByTestId("job-row").first()).toHaveCount(0);
  const stored = await page.evaluate(
    (id) =>
      window
        .openSwarm!.jobs.runtime()!
        .jobs()
        .some((j) => j.id === id),
    jobId,
  );
  expect(stored).toBe(false);
});

test("the unit log lists the expert batches a volunteer tab ran for another tab's classify job", async ({
  browser,
}) => {
  const manifest = new URL("../public/models/manifest.json", import.meta.url).pathname;
  test.skip(!existsSync(FASHION_TEST_IMAGES), "apt-get install dataset-fashion-mnist");
  test.skip(!existsSync(manifest), "public/models is not built (npm run models:build)");
  // ~20 s on an idle machine; the job's forced first batch may wait up to 25 s for vol's expert to load.
  test.setTimeout(150_000);
  const [requester, vol] = await Promise.all([
    openPeer(browser, "/?test=1#/experts"),
    openPeer(browser, "/?test=1"),
  ]);
  peers = [requester, vol];
  for (const p of peers) {
    await p.page.evaluate(() => window.openSwarm!.expertJobs!.ready);
    await expect
      .poll(() => p.page.evaluate(() => window.openSwarm!.expertJobs!.state().manifestStatus))
      .toBe("ready");
  }
  await waitForLinks(requester.page, [vol.peerId]);
  // Before any job, the Experts view has the router check the newcomer on sample test images (router
  // qualification.ts): it is trusted, and those batches are in its log, before the person clicks Run.
  await expect
    .poll(
      () =>
        requester.page.evaluate((id) => {
          const router = window.openSwarm!.expertJobs!.state().router;
          return router?.hosts.find((h) => h.peerId === id)?.trusted ?? false;
        }, vol.peerId),
      { timeout: 60_000 },
    )
    .toBe(true);
  // The note beside Run says so (before, it said how many were still loading or being checked).
  await expect(requester.page.getByTestId("volunteer-readiness")).toHaveText(/^\d+ volunteers? ready$/);
  const qualified = await requester.page.evaluate(() => window.openSwarm!.expertJobs!.state().router!.totals);
  expect(qualified.jobs).toBe(0);
  expect(qualified.qualificationBatches).toBeGreaterThanOrEqual(10);
  // Force the work onto `vol`: one of the job's first batches goes to it (the test-only firstBatchTo, as
  // experts-swarm.spec.ts does), whatever the router would have chosen.
  const job = await requester.page.evaluate(
    (to) =>
      window.openSwarm!.expertJobs!.classifyTestSet(200, { firstBatchTo: [to], firstBatchWaitMs: 25_000 }),
    vol.peerId,
  );
  expect(job.error).toBeNull();
  expect(job.rowsBySource[vol.peerId] ?? 0, "rows the requester accepted from vol").toBeGreaterThan(0);

  // The volunteer tab (on Contribute): one row per batch its host ran, as its host's log says, each naming
  // the requester, the expert, its rows; the router's batch-verdict marks the rows it kept "accepted" (the
  // forced batch's at least: the requester took rows from vol), and an honest host gets no "rejected".
  const host = () => vol.page.evaluate(() => window.openSwarm!.expertJobs!.state().host!);
  await expect
    .poll(async () => (await host()).log.filter((e) => e.outcome === "accepted").length)
    .toBeGreaterThan(0);
  const row = '[data-testid="unit-log-row"][data-kind="experts"]';
  const rows = vol.page.locator(row);
  // A batch still out when the job ended (a last qualification batch) may land after a first read: wait
  // until the page and the host's log agree, then read both.
  await expect
    .poll(async () => (await rows.count()) === (await host()).log.length, { timeout: 30_000 })
    .toBe(true);
  const { log, rowsServed } = await host();
  expect(log.every((e) => e.requesterId === requester.peerId)).toBe(true);
  await expect(rows).toHaveCount(log.length);
  // Every batch whose result left the host (whatever its verdict by now) adds up to the rows it served.
  const sentRows = await vol.page
    .locator(`${row}:not([data-outcome="failed"])`)
    .evaluateAll((els) => els.reduce((n, el) => n + Number(el.getAttribute("data-rows")), 0));
  expect(sentRows).toBe(rowsServed);
  await expect(vol.page.locator(`${row}[data-outcome="rejected"]`)).toHaveCount(0);
  const accepted = vol.page.locator(`${row}[data-outcome="accepted"]`);
  await expect(accepted.first()).toContainText("accepted by the requester");
  await expect(accepted.first()).toContainText(requester.peerId.slice(0, 10));
  await expect(accepted.first()).toContainText(/experts: expert-\d+ \(\w+\)/);
});
