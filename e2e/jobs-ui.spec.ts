import { expect, test, type Page } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { parseMatrixMarketVector } from "../src/core/sparse/matrix-market.ts";
import { multiply } from "../src/core/sparse/ops.ts";
import { closePeers, openPeer, type TestPeer } from "./support/peers.ts";

// The job UI end to end: a requester tab submits a small generated job from the Dashboard form, a volunteer
// tab computes it, the unit table shows verified results and x can be downloaded; Pause on the Contribute
// view stops the volunteer. Skipped until the job runtime exposes window.openSwarm.jobs (?test=1).

const SCREENSHOT = "/tmp/jobs-ui-dashboard.png";

async function downloaded(page: Page, click: () => Promise<void>): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  return readFile(await download.path(), "utf8");
}

function relResidual(x: Float64Array, b: Float64Array): number {
  const ax = multiply(poisson2d(100), x);
  let rr = 0;
  let bb = 0;
  for (let i = 0; i < b.length; i++) {
    rr += (b[i]! - ax[i]!) ** 2;
    bb += b[i]! ** 2;
  }
  return Math.sqrt(rr / bb);
}

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
  const volunteer = await openPeer(browser, "/?test=1#/");
  peers.push(volunteer);
  const page = requester.page;

  // Item 13: the top bar and the Peers card count the same peers (the other tab, not this one).
  await expect(volunteer.page.getByTestId("peer-count")).toHaveText("1", { timeout: 10_000 });
  await expect(volunteer.page.getByTestId("topbar-peer-count")).toHaveAttribute("data-count", "1");
  await expect(volunteer.page.getByTestId("topbar-peer-count")).toContainText("1 other peer online");

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
    // Item 4: a verified unit shows its result's final state, not its last progress report.
    await expect(unit.getByTestId("unit-iteration")).toHaveAttribute("data-reported", "result");
    expect(Number(await unit.getByTestId("unit-reported-residual").innerText())).toBeLessThanOrEqual(1e-8);
  }
  // Item 11: the volunteers' counts are this job's (2 units), not their totals.
  const verifiedCounts = await detail.getByTestId("job-volunteer-verified").allInnerTexts();
  expect(verifiedCounts.reduce((sum, t) => sum + Number(t), 0)).toBe(2);
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
  const text = await downloaded(page, () => downloadMtx.click());
  expect(text).toMatch(/^%%MatrixMarket matrix array real general/);
  expect(text).toMatch(/^10000 1$/m);

  // Item 12: random b can be downloaded (and its seed is shown), so x can be checked against it; the JSON
  // has each right-hand side's certified residual.
  const seed = Number(await detail.getByTestId("job-rhs-seed").innerText());
  expect(Number.isInteger(seed)).toBe(true);
  const bText = await downloaded(page, () => detail.getByTestId("download-rhs").click());
  const b = parseMatrixMarketVector(bText);
  const x = parseMatrixMarketVector(text);
  expect(relResidual(x, b)).toBeLessThanOrEqual(1e-8);
  const json = JSON.parse(await downloaded(page, () => detail.getByTestId("download-json").click())) as {
    rel_residuals: number[];
    rhs_seed: number;
    x: number[][];
  };
  expect(json.rhs_seed).toBe(seed);
  expect(json.rel_residuals).toHaveLength(2);
  for (const r of json.rel_residuals) expect(r).toBeLessThanOrEqual(1e-8);
  expect(json.rel_residuals[0]).toBeCloseTo(relResidual(x, b), 12);

  // Item 6: after a reload the finished job is selected, its worst residual is in the list and its chart
  // is drawn again.
  const worst = await row.getByTestId("job-row-worst").innerText();
  expect(Number(worst)).toBeLessThanOrEqual(1e-8);
  await page.reload();
  await expect(page.getByTestId("job-detail")).toHaveAttribute("data-job-id", jobId!, { timeout: 15_000 });
  await expect(page.getByTestId("job-row").getByTestId("job-row-worst")).toHaveText(worst);
  const chartAfter = page.getByTestId("job-detail").getByTestId("residual-chart");
  await expect(chartAfter.locator("canvas")).toBeVisible();
  await expect(chartAfter).toHaveAttribute("data-series-count", "2");
  expect(Number(await chartAfter.getAttribute("data-last-residual"))).toBeLessThanOrEqual(1e-8);
  await expect(page.getByTestId("unit-iteration").first()).toHaveAttribute("data-reported", "result");
});

test("errors: said for people with the code small, cleared by a success and by leaving; the form keeps its values", async ({
  browser,
}) => {
  const tab = await openPeer(browser, "/?test=1#/dashboard");
  peers.push(tab);
  test.skip(!(await hasJobRuntime(tab.page)), "the job runtime (window.openSwarm.jobs) is not there yet");
  const page = tab.page;
  const formError = page.getByTestId("job-form-error");
  const anyError = page.locator("[data-testid=job-form-error], [data-testid=jobs-error]");

  async function submitGarbage() {
    await page.getByTestId("job-source-upload").check();
    await page.getByTestId("job-matrix-file").setInputFiles({
      name: "garbage.mtx",
      mimeType: "text/plain",
      buffer: Buffer.from("not a matrix\n"),
    });
    await page.getByTestId("job-submit").click();
    await expect(formError).toHaveAttribute("data-code", "malformed_header");
  }

  await page.getByTestId("job-name").fill("keep me");
  await page.getByTestId("job-tol").fill("1e-6");
  await submitGarbage();
  // Item 8: the sentence names the file; the code is shown once, small, after it.
  await expect(formError).toContainText(/^the matrix file: line 1: /);
  await expect(formError.locator(".error-code")).toHaveText("malformed_header");
  await expect(anyError).toHaveCount(1);
  await expect(page.getByTestId("job-name")).toHaveValue("keep me");

  // A successful submission clears it (item 7).
  await page.getByRole("radio", { name: "generated", exact: true }).check();
  await page.getByTestId("job-generated").selectOption("poisson2d-100");
  await page.getByTestId("job-submit").click();
  await expect(page.getByTestId("job-row")).toHaveCount(1);
  await expect(anyError).toHaveCount(0);

  // So does leaving the page; the form still holds what was typed and chosen.
  await submitGarbage();
  await page.getByRole("link", { name: "Contribute" }).click();
  await expect(page.getByTestId("peers")).toBeVisible();
  await page.getByRole("link", { name: "Dashboard" }).click();
  await expect(page.getByTestId("job-form")).toBeVisible();
  await expect(anyError).toHaveCount(0);
  await expect(page.getByTestId("job-name")).toHaveValue("keep me");
  await expect(page.getByTestId("job-tol")).toHaveValue("1e-6");
  await expect(page.getByTestId("job-matrix-file-name")).toHaveText("garbage.mtx");
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
