import { relativeResidual } from "../../src/core/solver/certificate.ts";
import { createJsKernels } from "../../src/core/solver/js-kernels.ts";
import type { Kernels } from "../../src/core/solver/kernels.ts";
import { solve } from "../../src/core/solver/solve.ts";
import { createWasmKernels } from "../../workers/solver/wasm/index.ts";
import { jacobiPcg } from "./pcg.ts";
import type { Problem } from "./problems.ts";
import type { CpuBenchRow } from "./row.ts";
import { gbps, jsTriad, medianMs, spmvBytes } from "./timing.ts";

export interface RunConfig {
  reps: number;
  warmup: number;
  tol: number;
  maxIter: number;
}

/** Triad on vectors of a given length in the backend's own runtime; returns the median ms. */
type TriadTimer = (length: number) => number;

function measure(k: Kernels, triad: TriadTimer, p: Problem, cfg: RunConfig): CpuBenchRow {
  const ka = k.matrix(p.a);
  const x = k.vector(p.n);
  const y = k.vector(p.n);
  x.fill(1);
  const bytes = spmvBytes(p.n, p.nnz);
  const spmvMs = medianMs(cfg.reps, cfg.warmup, () => k.spmv(ka, x, y));
  const triadMs = triad(p.n);
  const wsLength = Math.ceil(bytes / 24);
  const triadWsMs = triad(wsLength);

  const t0 = performance.now();
  const cg = jacobiPcg(k, p.a, ka, p.b, cfg.tol, cfg.maxIter);
  const cgMs = performance.now() - t0;

  const t1 = performance.now();
  const s = solve(
    p.a,
    p.b,
    { method: "cg", preconditioner: "jacobi", tol: cfg.tol, maxIter: cfg.maxIter },
    k,
  );
  const solveMs = performance.now() - t1;

  return {
    problem: p.name,
    n: p.n,
    nnz: p.nnz,
    symmetric: p.symmetric,
    backend: k.backend === "wasm" ? "wasm" : "js",
    threads: k.threads,
    spmv_ms: spmvMs,
    spmv_gbps: gbps(bytes, spmvMs),
    triad_gbps: gbps(24 * p.n, triadMs),
    triad_ws_gbps: gbps(24 * wsLength, triadWsMs),
    cg_ms: cgMs,
    cg_iterations: cg.iterations,
    cg_converged: cg.converged,
    rel_residual: relativeResidual(p.a, cg.x, p.b),
    solve_ms: solveMs,
    solve_iterations: s.iterations,
    solve_converged: s.converged,
    solve_rel_residual: s.relResidual,
  };
}

export function runJs(p: Problem, cfg: RunConfig): CpuBenchRow {
  const k = createJsKernels();
  const triad: TriadTimer = (len) => {
    const [a, b, c] = [new Float64Array(len), new Float64Array(len).fill(1), new Float64Array(len).fill(2)];
    return medianMs(cfg.reps, cfg.warmup, () => jsTriad(a, b, 1.5, c));
  };
  try {
    return measure(k, triad, p, cfg);
  } finally {
    k.dispose();
  }
}

export async function runWasm(p: Problem, threads: number, cfg: RunConfig): Promise<CpuBenchRow> {
  const k = await createWasmKernels({ threads });
  if (k.threads !== threads) {
    k.dispose();
    throw new Error(`asked for ${threads} wasm threads, got ${k.threads}`);
  }
  const triad: TriadTimer = (len) => {
    const [a, b, c] = [k.vector(len), k.vector(len), k.vector(len)];
    b.fill(1);
    c.fill(2);
    return medianMs(cfg.reps, cfg.warmup, () => k.triad(a, b, 1.5, c));
  };
  try {
    return measure(k, triad, p, cfg);
  } finally {
    k.dispose();
  }
}
