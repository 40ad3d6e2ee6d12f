/**
 * Driving the WebGPU solver in a page and checking what comes back: matrices travel to the page as staged
 * blobs, results come back as plain JSON. Answers are checked in Node against the f64 CPU direct solver and
 * by recomputing ‖b − Ax‖/‖b‖ here, independently of what the GPU side reports.
 */
import { expect, type Browser, type Page } from "@playwright/test";
import { relativeResidual } from "../../src/core/solver/certificate.ts";
import { solve as cpuSolve } from "../../src/core/solver/solve.ts";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { parseMatrixMarket } from "../../src/core/sparse/matrix-market.ts";
import { sharedMatrixText } from "./matrices.ts";
import type { SolverServer } from "./webgpu-solver-server.ts";
export interface PlainCsr {
  rows: number;
  cols: number;
  rowPtr: number[];
  colIdx: number[];
  values: number[];
}

export interface DeviceOpts {
  maxBindingBytes?: number;
  maxWorkgroupsPerDimension?: number;
  rowsPerInvocation?: number;
}

export interface PageSolveOptions {
  method: string;
  tol: number;
  maxIter: number;
  checkEvery?: number;
  timeLimitMs?: number;
  /** Abort (AbortController) at the first streamed update whose iteration is at least this. */
  abortAtIteration?: number;
  /** Destroy the device at the first streamed update (fault injection: a lost device mid-solve). */
  destroyAtFirstUpdate?: boolean;
}

export interface PageSolveResult {
  ok: true;
  x: number[];
  converged: boolean;
  reason: string;
  iterations: number;
  relResidual: number;
  bestResidual: number;
  backend: string;
  methodPath: string[];
  dispatches: number;
  readbacks: number;
  dispatchesPerIteration: number;
  dispatchesPerUsefulIteration: number;
  readbacksPerIteration: number;
  encodedIterations: number;
  outerIterations: number;
  rowBlocks: number;
  updates: { iteration: number; residual: number }[];
  adapterArchitecture: string;
}

export interface PageSolveError {
  ok: false;
  code: string | undefined;
  message: string;
}

export function plain(a: CsrMatrix): PlainCsr {
  return {
    rows: a.rows,
    cols: a.cols,
    rowPtr: Array.from(a.rowPtr),
    colIdx: Array.from(a.colIdx),
    values: Array.from(a.values),
  };
}

export function loadMatrix(name: string): CsrMatrix {
  return parseMatrixMarket(sharedMatrixText(name));
}

/** b = A·1, so the exact answer is all ones. */
export function rhsOnes(a: CsrMatrix): Float64Array {
  const b = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) b[i] = b[i]! + a.values[k]!;
  }
  return b;
}

export async function openPage(browser: Browser, server: SolverServer): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/`);
  return page;
}

/** Runs one solve on a fresh solver in the page; errors come back as { ok: false, code }. */
export async function solveInPage(
  server: SolverServer,
  page: Page,
  a: CsrMatrix,
  b: Float64Array,
  options: PageSolveOptions,
  device: DeviceOpts = {},
): Promise<PageSolveResult | PageSolveError> {
  return page.evaluate(
    async ({ url, systemUrl, o, dev }) => {
      const mod = await import(url);
      const blob = await (await fetch(systemUrl)).arrayBuffer();
      const [rows, cols, nnz, bLength] = new Int32Array(blob, 0, 4) as unknown as [
        number,
        number,
        number,
        number,
      ];
      const values = new Float64Array(blob, 16, nnz);
      const b = new Float64Array(blob, 16 + 8 * nnz, bLength);
      const rowPtrOffset = 16 + 8 * nnz + 8 * bLength;
      const rowPtr = new Int32Array(blob, rowPtrOffset, rows + 1);
      const colIdx = new Int32Array(blob, rowPtrOffset + 4 * (rows + 1), nnz);
      const matrix = { rows, cols, rowPtr, colIdx, values };
      const updates: { iteration: number; residual: number }[] = [];
      let solver: { destroy(): void; adapter: { architecture: string } } | undefined;
      try {
        const s = await mod.createWebGpuSolver(navigator.gpu, dev);
        solver = s;
        const controller = new AbortController();
        const r = await s.solve(matrix, b, {
          method: o.method,
          tol: o.tol,
          maxIter: o.maxIter,
          ...(o.checkEvery === undefined ? {} : { checkEvery: o.checkEvery }),
          ...(o.timeLimitMs === undefined ? {} : { timeLimitMs: o.timeLimitMs }),
          signal: controller.signal,
          onUpdate: (u: { iteration: number; residual_norm: number }) => {
            updates.push({ iteration: u.iteration, residual: u.residual_norm });
            if (o.abortAtIteration !== undefined && u.iteration >= o.abortAtIteration) controller.abort();
            if (o.destroyAtFirstUpdate === true) s.destroy();
          },
        });
        return {
          ok: true as const,
          x: Array.from(r.x as Float64Array),
          converged: r.converged,
          reason: r.reason,
          iterations: r.iterations,
          relResidual: r.relResidual,
          bestResidual: r.bestResidual,
          backend: r.backend,
          methodPath: r.methodPath,
          dispatches: r.dispatches,
          readbacks: r.readbacks,
          dispatchesPerIteration: r.dispatchesPerIteration,
          dispatchesPerUsefulIteration: r.dispatchesPerUsefulIteration,
          readbacksPerIteration: r.readbacksPerIteration,
          encodedIterations: r.encodedIterations,
          outerIterations: r.outerIterations,
          rowBlocks: r.rowBlocks,
          updates,
          adapterArchitecture: s.adapter.architecture,
        };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { ok: false as const, code: err.code, message: String(err.message ?? e) };
      } finally {
        solver?.destroy();
      }
    },
    { url: server.bundleUrl, systemUrl: server.stage(a, b), o: options, dev: device },
  );
}

export function expectOk(r: PageSolveResult | PageSolveError): PageSolveResult {
  if (!r.ok) throw new Error(`solve failed in the page: ${r.code} ${r.message}`);
  return r;
}

export function relDiff(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (x[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** The f64 CPU reference: the project's direct (sparse LU) solver, to near machine precision. */
export function cpuReference(a: CsrMatrix, b: Float64Array): Float64Array {
  const r = cpuSolve(a, b, { method: "direct", tol: 1e-13, maxIter: 10 });
  expect(r.relResidual).toBeLessThan(1e-12);
  return r.x;
}

/**
 * Checks a GPU solve the way a requester would: the f64 residual of the returned x recomputed here, the
 * distance to the CPU reference, and the cost counters.
 */
export function checkSolve(
  r: PageSolveResult,
  a: CsrMatrix,
  b: Float64Array,
  tol: number,
  ref: Float64Array,
  maxRelError: number,
): void {
  expect(r.backend).toBe("webgpu");
  expect(r.converged, `reason ${r.reason}, residual ${r.relResidual}`).toBe(true);
  const independent = relativeResidual(a, Float64Array.from(r.x), b);
  expect(independent).toBeLessThanOrEqual(tol);
  expect(Math.abs(independent - r.relResidual)).toBeLessThanOrEqual(1e-3 * tol);
  expect(relDiff(r.x, ref)).toBeLessThanOrEqual(maxRelError);
  expect(r.iterations).toBeGreaterThan(0);
  expect(r.encodedIterations).toBeGreaterThanOrEqual(r.iterations);
}
