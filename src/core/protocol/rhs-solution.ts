import type { BackendName } from "./solver-names.ts";

/**
 * One right-hand side's solution: the one shape a unit's result keeps from the kernel to the requester. x
 * is the vector in memory and its blob's reference on the wire, where the bytes travel as an attachment
 * (the signed body commits to them by digest); nothing else is renamed or reshaped on the way:
 *
 * 1. kernel: src/core/solver's SolveResult (and the WebGPU solver's, kernels/webgpu) is a SolvedRhs;
 * 2. solver worker: workers/solver/run-job.ts answers a SolveJobSummary, a SolvedRhs with what the
 *    dashboard shows beside it (x transferred through Comlink);
 * 3. unit bridge: workers/solver/unit-client.ts hands that summary to the volunteer as its SolvedRhs;
 * 4. volunteer: src/core/jobs/volunteer/unit-run.ts sends x as a blob, and toWireSolution (jobs.ts) puts
 *    the solution with x's reference, bounded to the wire's limits, into the signed unit-result; backend
 *    and ms become the unit's backend and computeMs;
 * 5. requester: src/core/jobs/requester/intake.ts fetches each x by its digest, and result-check.ts
 *    weighs the solutions' claims against its own residual.
 */
export interface RhsSolution<X> {
  readonly x: X;
  readonly converged: boolean;
  readonly iterations: number;
  /** The solver's own f64 certificate (null on the wire when it is not finite); the requester recomputes it
   *  and trusts only its own. */
  readonly relResidual: number | null;
  /** The path taken, e.g. ["cg+jacobi", "gmres(30)+ilu0"]. */
  readonly methodPath: readonly string[];
}

/** A solution as a volunteer's solver returns it: the vector itself, and where and how long it ran. */
export interface SolvedRhs extends RhsSolution<Float64Array> {
  readonly backend: BackendName;
  readonly ms: number;
}
