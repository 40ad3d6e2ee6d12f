import type { CsrMatrix } from "../sparse/csr.ts";
import { solve } from "../solver/solve.ts";
import { runDistributedInProcess } from "./in-process.ts";
import type { BlockPreconditionerName } from "../protocol/distributed.ts";

export interface DistributedBenchmark {
  n: number;
  k: number;
  preconditioner: BlockPreconditionerName;
  singleMs: number;
  distributedMs: number;
  /** singleMs / distributedMs, measured in this run (> 1 means the distributed solve was faster). */
  speedup: number;
  singleIterations: number;
  distributedIterations: number;
  singleRelResidual: number;
  distributedRelResidual: number;
  singleConverged: boolean;
  distributedConverged: boolean;
  messagesPerIteration: number;
  bytesPerIteration: number;
  /** What this number does and does not measure. */
  note: string;
}

export interface BenchmarkOptions {
  tol?: number;
  maxIter?: number;
  /** Default "jacobi": block-Jacobi with Jacobi blocks is global Jacobi, so both sides do the same iterations. */
  preconditioner?: BlockPreconditionerName;
  latencyMs?: number;
}

/**
 * `distributed_vs_single`: single-process Jacobi-PCG (the solver's own cg) against the distributed PCG
 * with K in-process workers, same A, b and tolerance, in the same run. The K workers share this thread, so
 * the ratio shows the protocol's overhead (message copies, schema checks, extra recurrence vectors), not a
 * parallel speedup; over WebRTC add K·(round trips per iteration)·latency.
 */
export async function benchmarkDistributed(
  a: CsrMatrix,
  b: Float64Array,
  k: number,
  options: BenchmarkOptions = {},
): Promise<DistributedBenchmark> {
  const tol = options.tol ?? 1e-8;
  const maxIter = options.maxIter ?? 100_000;
  const preconditioner = options.preconditioner ?? "jacobi";
  const t0 = performance.now();
  const single = solve(a, b, { method: "cg", preconditioner: "jacobi", tol, maxIter });
  const singleMs = performance.now() - t0;
  const run = await runDistributedInProcess(a, b, k, {
    method: "pcg",
    preconditioner,
    tol,
    maxIter,
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
  });
  return {
    n: a.rows,
    k,
    preconditioner,
    singleMs,
    distributedMs: run.wallMs,
    speedup: singleMs / run.wallMs,
    singleIterations: single.iterations,
    distributedIterations: run.result.iterations,
    singleRelResidual: single.relResidual,
    distributedRelResidual: run.result.relResidual,
    singleConverged: single.converged,
    distributedConverged: run.result.converged,
    messagesPerIteration: run.perIteration.messages,
    bytesPerIteration: run.perIteration.bytes,
    note:
      `in-process: the ${k} workers share one thread, so this is protocol overhead, not parallel speedup; ` +
      "network latency is not included (latencyMs simulates it)",
  };
}
