import { expect, test, type Page } from "@playwright/test";
import { SHARED_MATRICES_DIR } from "./support/matrices.ts";
import { resolve } from "node:path";

// One tab alone submits a solve from the Dashboard and computes it in its own solver worker.

const matrices = SHARED_MATRICES_DIR;

async function openDashboard(page: Page) {
  await page.goto("/#/dashboard");
  await expect(page.getByTestId("solve-form")).toBeVisible();
}

function run(page: Page) {
  return page.getByTestId("solve-run");
}

test("an example solves in the tab and the residual is certified", async ({ page }) => {
  await openDashboard(page);
  await page.getByLabel("example problem").selectOption("poisson2d-100");
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  await expect(page.getByTestId("solve-outcome")).toHaveText("converged");
  const residualText = await page.getByTestId("solve-residual").innerText();
  const residual = Number(/= ([0-9.e+-]+)/.exec(residualText)?.[1]);
  expect(residual).toBeLessThanOrEqual(1e-8);
  const chart = page.getByTestId("residual-chart");
  await expect(chart.locator("canvas")).toBeVisible();
  // The y scale uPlot set follows the solve down to its certified end (it once stayed at the first range).
  expect(Number(await chart.getAttribute("data-last-residual")) / residual).toBeCloseTo(1, 3);
  const [yMin] = (await chart.getAttribute("data-y-range"))!.split(" ").map(Number);
  expect(yMin).toBeLessThanOrEqual(residual);
});

test("an uploaded SuiteSparse matrix (west0479, nonsymmetric) is solved by the hybrid", async ({ page }) => {
  await openDashboard(page);
  await page.getByLabel("upload .mtx").check();
  await page.getByTestId("matrix-file").setInputFiles(resolve(matrices, "west0479.mtx"));
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  await expect(page.getByTestId("solve-outcome")).toHaveText("converged");
  await expect(page.getByTestId("solve-summary")).toContainText("b = A·1");
});

test("a malformed upload gets a specific error and the tab keeps working", async ({ page }) => {
  await openDashboard(page);
  await page.getByLabel("upload .mtx").check();
  await page.getByTestId("matrix-file").setInputFiles({
    name: "broken.mtx",
    mimeType: "text/plain",
    buffer: Buffer.from("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 4.0\n7 2 1.0\n"),
  });
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("solve-error")).toContainText("index_out_of_range");

  await page.getByLabel("example").check();
  await page.getByLabel("example problem").selectOption("poisson3d-30");
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  await expect(page.getByTestId("solve-outcome")).toHaveText("converged");
});

test("cancel stops a long solve within a second", async ({ page }) => {
  await openDashboard(page);
  await page.getByLabel("example problem").selectOption("poisson2d-1000");
  await page.getByLabel("backend").selectOption("js");
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(page.getByTestId("solve-live")).toContainText("iteration", { timeout: 30_000 });
  const cancelledAt = Date.now();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(run(page)).not.toHaveAttribute("data-status", "running", { timeout: 1_000 });
  expect(Date.now() - cancelledAt).toBeLessThan(1_500);
  await expect(run(page)).toContainText("cancelled");
});

test("the WebGPU backend solves in the worker (f32 on the GPU, f64 by refinement)", async ({ page }) => {
  await openDashboard(page);
  const hasGpu = await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null);
  test.skip(!hasGpu, "this browser has no WebGPU adapter");
  await page.getByLabel("example problem").selectOption("poisson2d-100");
  await page.getByLabel("backend").selectOption("webgpu");
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "done", { timeout: 90_000 });
  await expect(page.getByTestId("solve-outcome")).toHaveText("converged");
  await expect(page.getByTestId("solve-summary")).toContainText("webgpu");
});

/** The numbers the chart says it draws (data attributes: tests read these, not pixels). */
async function chartState(page: Page) {
  const chart = page.getByTestId("residual-chart");
  return {
    seriesCount: Number(await chart.getAttribute("data-series-count")),
    lastResidual: await chart.getAttribute("data-last-residual"),
  };
}

test("a zero matrix with b = A·1 = 0 answers x = 0 with its note, and the chart draws without a page error", async ({
  page,
}) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await openDashboard(page);
  await page.getByLabel("upload .mtx").check();
  await page.getByTestId("matrix-file").setInputFiles({
    name: "zero3.mtx",
    mimeType: "text/plain",
    buffer: Buffer.from("%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 0\n2 2 0\n3 3 0\n"),
  });
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "done");
  await expect(run(page)).toContainText("the right-hand side is zero, so x = 0");
  // The x = 0 point is drawn (its residual 0 at the floor of the log axis): the page did not freeze.
  await expect(page.getByTestId("residual-chart").locator("canvas")).toBeVisible();
  expect(await chartState(page)).toEqual({ seriesCount: 1, lastResidual: "0" });
  await expect(page.getByTestId("residual-chart-legend")).toContainText("b = 0, so x = 0");
  expect(errors).toEqual([]);
});

test("bcsstk13 by the hybrid ending in direct LU: the chart reaches the certified residual, then a failed run clears it", async ({
  page,
}) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await openDashboard(page);
  await page.getByLabel("upload .mtx").check();
  await page.getByTestId("matrix-file").setInputFiles(resolve(matrices, "bcsstk13.mtx"));
  // 300 iterations are too few for CG on bcsstk13 (it needs ~1,400): the hybrid ends in direct LU.
  await page.getByLabel("max iterations", { exact: true }).fill("300");
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  await expect(page.getByTestId("solve-outcome")).toHaveText("converged");
  await expect(page.getByTestId("solve-summary")).toContainText("direct");
  const certified = Number(/= ([0-9.e+-]+)/.exec(await page.getByTestId("solve-residual").innerText())![1]);
  expect(certified).toBeLessThanOrEqual(1e-8);
  // The chart ends at the certificate (below the tolerance line), one line per stage, in the legend.
  const chart = await chartState(page);
  expect(Number(chart.lastResidual)).toBeCloseTo(certified, 10);
  expect(chart.seriesCount).toBeGreaterThanOrEqual(2);
  const legend = page.getByTestId("residual-chart-legend");
  await expect(legend.locator("[data-series='direct#1']")).toContainText("(certified)");
  await expect(legend).toContainText("tolerance");
  await expect(legend).not.toContainText("--");
  // The live line counts the iterations the summary does (it said twice as many).
  const iterations = Number(await page.getByTestId("solve-iterations").innerText());
  const live = Number(/iteration (\d+)/.exec(await page.getByTestId("solve-live").innerText())![1]);
  expect(live).toBe(iterations);

  // A failed run after it: no axes of the previous run around an empty plot.
  await page.getByTestId("matrix-file").setInputFiles({
    name: "broken.mtx",
    mimeType: "text/plain",
    buffer: Buffer.from("%%MatrixMarket matrix coordinate real general\n3 3 1\n7 2 1.0\n"),
  });
  await page.getByRole("button", { name: "Solve" }).click();
  await expect(run(page)).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("residual-chart").locator("canvas")).toHaveCount(0);
  expect((await chartState(page)).seriesCount).toBe(0);
  expect(errors).toEqual([]);
});
