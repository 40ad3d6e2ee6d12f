import { expect, test, type Page } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";

// The job UI end to end: a requester tab submits a small generated job from the Dashboard form, a volunteer
// tab computes it, the unit table shows verified results and x can be downloaded; Pause on the Contribute
// view stops the volunteer. Skipped until the job runtime exposes window.openSwarm.jobs (?test=1).

const SCREENSHOT = "/tmp/jobs-ui-dashboard.png";

/** True once this page's requester and volunteer runtimes run; false when the app has no job runtime. */
function hasJobRuntime(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    const hook: unknown = window.openSwarm;
    if (typeof hook !== "object" || hook === null || !("jobs" in hook) || hook.jobs === undefined)
      return false;
    if ("jobsReady" in hook && hook.jobsReady instanceof Promise) await hook.jobsReady;
    return true;
  });
}

let peers: TestPeer[] = [];
test.afterEach(async () => {
  await closePeers(peers);
  peers = [];
});

test("a generated multi-rhs job submitted from the Dashboard completes with verified units", async ({
  browser,
}) => {
  const requester = await openPeer(browser, "/?test=1#/dashboard");
  peers.push(requester);
  test.skip(
    !(await hasJobRuntime(requester.page)),
    "the job runtime (window.openSwarm.jobs) is not there yet",
  );
  peers.push(await openPeer(browser, "/?test=1#/"));
  const page = requester.page;

  const form = page.getByTestId("job-form");
  await expect(form).toBeVisible();
  await page.getByTestId("job-generated").selectOption("poisson2d-100");
  await page.getByTestId("job-rhs-random").check();
  await page.getByTestId("job-random-count").fill("2");
  await page.getByTestId("job-method").selectOption("cg");
  await page.getByTestId("job-tol").fill("1e-8");
  await expect(page.getByTestId("job-kind-preview")).toContainText("multi-rhs");
  await page.getByTestId("job-submit").click();
  await expect(page.getByTestId("job-form-error")).toHaveCount(0);

  const row = page.getByTestId("job-row");
  await expect(row).toHaveCount(1);
  const jobId = await row.getAttribute("data-job-id");
  expect(jobId).toBeTruthy();
  const detail = page.getByTestId("job-detail");
  await expect(detail).toHaveAttribute("data-job-id", jobId!);
  await expect(detail.getByTestId("unit-row")).toHaveCount(2);

  await expect(row).toHaveAttribute("data-status", "done", { timeout: 90_000 });
  await expect(detail).toHaveAttribute("data-status", "done");
  const units = detail.getByTestId("unit-row");
  await expect(units).toHaveCount(2);
  for (const unit of await units.all()) {
    await expect(unit).toHaveAttribute("data-status", "done");
    await expect(unit).toHaveAttribute("data-verification", "verified");
    const certified = Number(await unit.getByTestId("unit-certified").innerText());
    expect(certified).toBeLessThanOrEqual(1e-8);
  }
  await expect(page.getByTestId("job-progress")).toHaveJSProperty("value", 1);
  const chart = detail.getByTestId("residual-chart");
  await expect(chart.locator("canvas")).toBeVisible();
  // One line per unit, each ending at its certificate: the chart reaches below the tolerance.
  await expect(chart).toHaveAttribute("data-series-count", "2");
  expect(Number(await chart.getAttribute("data-last-residual"))).toBeLessThanOrEqual(1e-8);
  await expect(chart.getByTestId("residual-chart-legend").getByText("(certified)")).toHaveCount(2);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  // x of the first right-hand side, as a Matrix Market array with n = 10,000 entries.
  const downloadMtx = detail.getByTestId("download-mtx");
  await expect(downloadMtx).toBeEnabled();
  await expect(detail.getByTestId("download-json")).toBeEnabled();
  const [download] = await Promise.all([page.waitForEvent("download"), downloadMtx.click()]);
  const text = await readFile(await download.path(), "utf8");
  expect(text).toMatch(/^%%MatrixMarket matrix array real general/);
  expect(text).toMatch(/^10000 1$/m);
});

test("Pause on the Contribute view pauses the volunteer and Resume undoes it", async ({ browser }) => {
  const volunteer = await openPeer(browser, "/?test=1#/");
  peers.push(volunteer);
  test.skip(
    !(await hasJobRuntime(volunteer.page)),
    "the job runtime (window.openSwarm.jobs) is not there yet",
  );
  const page = volunteer.page;

  const status = page.getByTestId("volunteer-status");
  await expect(status).toBeVisible();
  await expect(status).not.toHaveAttribute("data-status", "paused");
  const pause = page.getByTestId("volunteer-pause");
  await expect(pause).toHaveText("Pause");
  await pause.click();
  await expect(status).toHaveAttribute("data-status", "paused", { timeout: 1_000 });
  await expect(pause).toHaveText("Resume");
  await pause.click();
  await expect(status).not.toHaveAttribute("data-status", "paused", { timeout: 1_000 });
});
