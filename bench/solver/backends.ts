import { relativeResidual } from "../../src/core/solver/certificate.ts";
import { createJsKernels } from "../../src/core/solver/js-kernels.ts";
import type { Kernels } from "../../src/core/solver/kernels.ts";
import { solve } from "../../src/core/solver/solve.ts";
import { createWasmKernels } from "../../kernels/wasm/index.ts";
import { jacobiPcg } from "./pcg.ts";
import type { Problem } from "./problems.ts";
import type { CpuBenchRow } from "./row.ts";
import { alternatingMedianMs, blockMedianMs, gbps, jsTriad, spmvBytes, triadLengthFor } from "./timing.ts";

export interface RunConfig {
  reps: number;
  warmup: number;
  /** Untimed calls at the start of each timed block (see blockMedianMs): enough to reach steady state. */
  blockWarmup: number;
  tol: number;
  maxIter: number;
}

/** Rounds of the block-interleaved timing: each kernel's timed calls come in this many blocks (more
 *  rounds pair the kernel and its reference more closely in time; each block costs blockWarmup calls). */
const BLOCK_ROUNDS = 7;

/** Returns a triad a = b + s·c on fresh vectors of the given length, in the backend's own runtime. */
type TriadMaker = (length: number) => () => void;

function measure(k: Kernels, makeTriad: TriadMaker, p: Problem, cfg: RunConfig): CpuBenchRow {
  const ka = k.matrix(p.a);
  const x = k.vector(p.n);
  const y = k.vector(p.n);
  x.fill(1);
  const bytes = spmvBytes(p.n, p.nnz);
  // The reference triad moves the SpMV's bytes (same working set); the small one runs on n-length
  // vectors. Steady state in interleaved blocks, then the SpMV and the reference alternating call by
  // call (bench/solver/timing.ts and notes.ts say why both).
  const triadLength = triadLengthFor(bytes);
  const spmv = (): void => k.spmv(ka, x, y);
  const triad = makeTriad(triadLength);
  const [spmvMs, triadMs, triadSmallMs] = blockMedianMs(
    cfg.reps,
    cfg.blockWarmup,
    Math.min(BLOCK_ROUNDS, cfg.reps),
    [spmv, triad, makeTriad(p.n)],
  ) as [number, number, number];
  const [spmvAltMs, triadAltMs] = alternatingMedianMs(cfg.reps, cfg.warmup, [spmv, triad]) as [
    number,
    number,
  ];

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
    triad_gbps: gbps(24 * triadLength, triadMs),
    triad_small_gbps: gbps(24 * p.n, triadSmallMs),
    triad_length: triadLength,
    spmv_alternating_gbps: gbps(bytes, spmvAltMs),
    triad_alternating_gbps: gbps(24 * triadLength, triadAltMs),
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
  const makeTriad: TriadMaker = (len) => {
    const [a, b, c] = [new Float64Array(len), new Float64Array(len).fill(1), new Float64Array(len).fill(2)];
    return () => jsTriad(a, b, 1.5, c);
  };
  try {
    return measure(k, makeTriad, p, cfg);
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
  const makeTriad: TriadMaker = (len) => {
    const [a, b, c] = [k.vector(len), k.vector(len), k.vector(len)];
    b.fill(1);
    c.fill(2);
    return () => k.triad(a, b, 1.5, c);
  };
  try {
    return measure(k, makeTriad, p, cfg);
  } finally {
    k.dispose();
  }
}
