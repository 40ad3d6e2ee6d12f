/**
 * Where the WebGPU solver runs: inside a module Web Worker (its real home), and where it cannot (no secure
 * context, or a GPU that grants no adapter) it fails with webgpu_unavailable.
 */
import { expect, test } from "@playwright/test";
import { relativeResidual } from "../src/core/solver/certificate.ts";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { openPage, plain, rhsOnes } from "./support/webgpu-page-solve.ts";
import { useSolverServer } from "./support/webgpu-solver-server.ts";

const srv = useSolverServer();

test("runs inside a module Web Worker", async ({ browser }) => {
  const page = await openPage(browser, srv);
  const a = poisson2d(32);
  const b = rhsOnes(a);
  const r = await page.evaluate(
    ({ m, bArr }) =>
      new Promise<{ ok: boolean; inWorker?: boolean; x?: number[]; converged?: boolean; code?: string }>(
        (resolve, reject) => {
          const worker = new Worker("/worker.js", { type: "module" });
          worker.onmessage = (e) => {
            resolve(e.data);
            worker.terminate();
          };
          worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
          worker.postMessage({ m, b: bArr });
        },
      ),
    { m: plain(a), bArr: Array.from(b) },
  );
  expect(r, JSON.stringify({ ...r, x: undefined })).toMatchObject({
    ok: true,
    inWorker: true,
    converged: true,
  });
  expect(relativeResidual(a, Float64Array.from(r.x!), b)).toBeLessThanOrEqual(1e-8);
  await page.close();
});

test("without WebGPU the solver fails with webgpu_unavailable", async ({ browser }) => {
  const page = await browser.newPage();
  // about:blank is not a secure context, so navigator.gpu is absent there: the real "no WebGPU" browser.
  // (It may not fetch from a local server either, so the bundle goes in as an inline classic script.)
  await page.goto("about:blank");
  await page.addScriptTag({ content: srv.iifeBundle });
  const insecure = await page.evaluate(async () => {
    const g = globalThis as unknown as {
      WebGpuSolverModule: { createWebGpuSolver(gpu: unknown): Promise<unknown> };
      isSecureContext: boolean;
    };
    const hasGpu = "gpu" in navigator;
    try {
      await g.WebGpuSolverModule.createWebGpuSolver((navigator as unknown as { gpu?: unknown }).gpu);
      return { secure: g.isSecureContext, hasGpu, code: "none", message: "" };
    } catch (e) {
      return { secure: g.isSecureContext, hasGpu, code: (e as { code?: string }).code, message: String(e) };
    }
  });
  expect(insecure.secure).toBe(false);
  expect(insecure.hasGpu).toBe(false);
  expect(insecure.code).toBe("webgpu_unavailable");
  expect(insecure.message).toMatch(/secure context/);

  // A fake GPU that grants no adapter (fault injection: what a blocklisted GPU looks like).
  await page.goto(`${srv.baseUrl}/`);
  const noAdapter = await page.evaluate(async (url) => {
    const mod = await import(url);
    const fakeGpuWithoutAdapter = { requestAdapter: async () => null };
    try {
      await mod.createWebGpuSolver(fakeGpuWithoutAdapter);
      return "none";
    } catch (e) {
      return (e as { code?: string }).code;
    }
  }, srv.bundleUrl);
  expect(noAdapter).toBe("webgpu_unavailable");
  await page.close();
});
