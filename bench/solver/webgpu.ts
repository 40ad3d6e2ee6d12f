import { relativeResidual } from "../../src/core/solver/certificate.ts";
import type { Problem } from "./problems.ts";
import type { WebGpuBenchRow } from "./row.ts";
import { isSoftwareAdapter, WebGpuBrowser } from "./webgpu-browser.ts";

/**
 * The WebGPU rows of the solver benchmark: each problem solved once by the product's WebGPU backend
 * (Jacobi-CG in f32 + f64 refinement, kernels/webgpu) in headless Chromium, its x certified here in
 * f64. What the rows are for is the cost structure the design rests on: dispatches and readbacks per
 * iteration. Times are reported only from a hardware adapter; on SwiftShader they say nothing about a GPU.
 */

export interface WebGpuBenchConfig {
  tol: number;
  maxIter: number;
  /** Problems with more rows are skipped and listed in not_measured (SwiftShader is slow on 10⁶ rows). */
  maxN: number;
  /** Per solve: the solver stops there with reason time_limit and reports the residual reached. */
  timeLimitMs: number;
  /** Chromium to launch; default /usr/bin/chromium when present, else Playwright's own. */
  executablePath?: string;
  log: (line: string) => void;
}

export interface NotMeasured {
  name: string;
  reason: string;
}

export interface WebGpuBenchResult {
  rows: WebGpuBenchRow[];
  notMeasured: NotMeasured[];
}

/** Time given to a page beyond the solver's own limit (upload, staging, shader compiles) before giving up. */
const GUARD_EXTRA_MS = 120_000;

export async function runWebGpu(problems: Problem[], cfg: WebGpuBenchConfig): Promise<WebGpuBenchResult> {
  const rows: WebGpuBenchRow[] = [];
  const notMeasured: NotMeasured[] = [];
  let browser: WebGpuBrowser;
  try {
    browser = await WebGpuBrowser.start(cfg.executablePath);
  } catch (e) {
    notMeasured.push({ name: "webgpu", reason: (e as Error).message });
    return { rows, notMeasured };
  }
  try {
    const probe = await browser.probe();
    if (!probe.ok) {
      notMeasured.push({ name: "webgpu", reason: `no WebGPU in Chromium: ${probe.message}` });
      return { rows, notMeasured };
    }
    const software = isSoftwareAdapter(probe.adapter);
    const adapterName = probe.adapter.architecture || probe.adapter.description || "unknown adapter";
    cfg.log(`webgpu: adapter ${adapterName}${software ? " (software: counts only, no timings)" : ""}`);
    if (software) {
      notMeasured.push({
        name: "webgpu speed",
        reason: `software adapter (${adapterName === "swiftshader" ? "SwiftShader" : adapterName}), only dispatch/readback counts are reported`,
      });
    }
    for (const p of problems) {
      const label = `${p.name}/webgpu/1`;
      if (p.n > cfg.maxN) {
        const why = software ? "too slow on a software adapter" : "above the size limit";
        notMeasured.push({
          name: label,
          reason: `n = ${p.n} > ${cfg.maxN} (--webgpu-max-n): ${why}; raise the limit to run it`,
        });
        continue;
      }
      const t0 = performance.now();
      try {
        const row = await solveOne(browser, p, cfg);
        rows.push(row);
        cfg.log(`  ${label}: ${describe(row)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        notMeasured.push({ name: label, reason: (e as Error).message });
        cfg.log(`  ${label}: FAILED ${(e as Error).message}`);
      }
    }
  } finally {
    await browser.close();
  }
  return { rows, notMeasured };
}

async function solveOne(browser: WebGpuBrowser, p: Problem, cfg: WebGpuBenchConfig): Promise<WebGpuBenchRow> {
  // CG for every problem, as the CPU rows do: a nonsymmetric matrix shows up as not converged.
  const r = await browser.solve(
    p.a,
    p.b,
    {
      method: "cg",
      preconditioner: "jacobi",
      tol: cfg.tol,
      maxIter: cfg.maxIter,
      timeLimitMs: cfg.timeLimitMs,
    },
    cfg.timeLimitMs + GUARD_EXTRA_MS,
  );
  if (!r.ok)
    throw new Error(`webgpu solver failed${r.code === undefined ? "" : ` (${r.code})`}: ${r.message}`);
  if (r.x.length !== p.n)
    throw new Error(`webgpu solver returned x of length ${r.x.length}, expected ${p.n}`);
  const timed = !isSoftwareAdapter(r.adapter);
  return {
    problem: p.name,
    n: p.n,
    nnz: p.nnz,
    symmetric: p.symmetric,
    backend: "webgpu",
    threads: 1,
    spmv_ms: null,
    spmv_gbps: null,
    triad_gbps: null,
    triad_small_gbps: null,
    triad_length: null,
    spmv_alternating_gbps: null,
    triad_alternating_gbps: null,
    cg_ms: timed ? r.ms : null,
    cg_iterations: r.iterations,
    cg_converged: r.converged,
    rel_residual: relativeResidual(p.a, r.x, p.b),
    solve_ms: null,
    solve_iterations: null,
    solve_converged: null,
    solve_rel_residual: null,
    method: r.methodPath.join(" > "),
    reason: r.reason,
    reported_rel_residual: r.relResidual,
    ms_per_iteration: timed && r.iterations > 0 ? r.ms / r.iterations : null,
    encoded_iterations: r.encodedIterations,
    outer_iterations: r.outerIterations,
    row_blocks: r.rowBlocks,
    dispatches: r.dispatches,
    readbacks: r.readbacks,
    dispatches_per_iteration: r.dispatchesPerIteration,
    dispatches_per_useful_iteration: r.dispatchesPerUsefulIteration,
    readbacks_per_iteration: r.readbacksPerIteration,
    adapter: r.adapter.architecture || r.adapter.description,
    timing_meaningful: timed,
  };
}

function describe(r: WebGpuBenchRow): string {
  const status = r.cg_converged ? "converged" : `NOT converged (${r.reason})`;
  return (
    `${r.cg_iterations} it, ${r.outer_iterations} refinement steps, ${status}, rel_res ${r.rel_residual.toExponential(2)}, ` +
    `${r.dispatches_per_iteration.toFixed(2)} dispatches/it (${r.dispatches_per_useful_iteration.toFixed(2)} per useful it), ` +
    `${r.readbacks_per_iteration.toFixed(3)} readbacks/it` +
    (r.cg_ms === null ? "" : `, ${r.cg_ms.toFixed(0)} ms`)
  );
}
