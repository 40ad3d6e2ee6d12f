import type { LiveUpdateOptions, UpdatesReport } from "./updates/source.ts";
import type { SolvedRhs } from "../protocol/rhs-solution.ts";
import type { BackendName } from "./kernels.ts";

import type { MethodName, PreconditionerName } from "../protocol/solver-names.ts";

export type { MethodName, PreconditionerName } from "../protocol/solver-names.ts";

/** The seed's streaming update, emitted every `updateEvery` iterations (and at the end). */
export interface IterationUpdate {
  type: "iteration_update";
  method: string;
  iteration: number;
  /** ‖r‖₂ / ‖b‖₂ as tracked by the iteration (the certificate is recomputed independently at the end). */
  residual_norm: number;
  /** Geometric mean reduction factor of the residual per iteration over the last interval (< 1 is progress). */
  convergence_rate: number;
  /** A copy of the current iterate, only when `includeXPartial` was asked. */
  x_partial?: Float64Array;
  /** Estimates: wall time per iteration over the interval, flops per iteration, working-set bytes. */
  performance: { iteration_time_ms: number; flops: number; memory_bytes: number };
}

export interface SolveOptions {
  method: MethodName;
  /** Relative residual target ‖b − Ax‖/‖b‖. */
  tol: number;
  maxIter: number;
  /** cg: none | jacobi (default) | ic0; bicgstab: none | jacobi (default) | ilu0; gmres: none | jacobi | ilu0 (default). */
  preconditioner?: PreconditionerName;
  /** GMRES restart length m (default 30; also used by the hybrid's GMRES stage). */
  restart?: number;
  /** Warm start (incremental updates continue from a previous x). */
  x0?: Float64Array;
  /** Stream an IterationUpdate every this many iterations (default 10). */
  updateEvery?: number;
  includeXPartial?: boolean;
  onUpdate?: (update: IterationUpdate) => void;
  signal?: AbortSignal;
  timeLimitMs?: number;
  /** gauss_seidel only: natural-order sweeps, or multicolor sweeps (rows of one color are independent). */
  gsVariant?: "sequential" | "multicolor";
  /** Damping ω for jacobi (x += ω D⁻¹ r) and SOR ω for gauss_seidel; default 1. */
  relaxation?: number;
  /** Stagnation: stop (hybrid: switch) when the best residual has not dropped by `stagnationFactor`
   *  within `stagnationWindow` iterations. Defaults: hybrid 400 / 0.5; plain methods 1000 / 0.99. */
  stagnationWindow?: number;
  stagnationFactor?: number;
  /** Divergence: residual above `divergenceFactor` × the stage's best (or NaN). Default 1e4 hybrid, 1e8 plain. */
  divergenceFactor?: number;
  /** Largest n the direct LU accepts (default 20000), and the largest nnz(L)+nnz(U) (default 8e6). */
  directMaxN?: number;
  directMaxFill?: number;
  /** Fill-reducing pre-ordering of the direct LU (default "amd"; see ordering/lu-ordering.ts). */
  directOrdering?: "amd" | "rcm" | "natural";
  /**
   * Updates of A and b posted while the solve runs (updates/live.ts): applied at the next iteration
   * boundary, the method restarts warm from the current x; `maxIter` then counts from the last update.
   */
  liveUpdates?: LiveUpdateOptions;
}

/** One stage of a (hybrid) solve, for failure reports. */
export interface StageReport {
  label: string;
  reason: StopReason;
  iterations: number;
  /** Best relative residual tracked (the methods' own estimate, not a certificate) by the end of this stage. */
  bestResidual: number;
  /** Why the stage was set up the way it was (shifted IC(0), fixed ILU pivots, refused direct, ...). */
  note?: string;
}

export type StopReason =
  | "converged"
  | "max_iterations"
  | "stagnated"
  | "diverged"
  | "breakdown"
  | "cancelled"
  | "time_limit"
  | "singular";

/** A SolvedRhs (protocol/rhs-solution.ts): what a swarm unit's solution is made of, from here to the requester. */
export interface SolveResult extends SolvedRhs {
  x: Float64Array;
  converged: boolean;
  reason: StopReason;
  iterations: number;
  /** Certificate: ‖b − Ax‖/‖b‖ recomputed in f64 from x, A and b, independently of the iteration. */
  relResidual: number;
  /**
   * Best relative residual reached, as a certificate: a failed solve returns its best iterate (by
   * certificate), and this is that iterate's ‖b − Ax‖/‖b‖. The methods' own, unverified estimates are in
   * `stages[].bestResidual`.
   */
  bestResidual: number;
  /** The path taken, e.g. ["cg+jacobi", "gmres(30)+ilu0", "direct"]; a single entry for a plain method. */
  methodPath: string[];
  backend: BackendName;
  threads: number;
  ms: number;
  /** Per-stage detail (always filled by solve()). */
  stages?: StageReport[];
  /** With options.liveUpdates: what was applied, and the system x (and relResidual) belongs to. */
  updates?: UpdatesReport;
}
