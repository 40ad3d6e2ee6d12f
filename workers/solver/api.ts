import type {
  IterationUpdate,
  MethodName,
  PreconditionerName,
  StageReport,
  StopReason,
} from "../../src/core/solver/types.ts";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import type { BackendName } from "../../src/core/solver/kernels.ts";
import type { SolvedRhs } from "../../src/core/protocol/rhs-solution.ts";
import type { LiveUpdateEvent, SystemUpdates } from "../../src/core/solver/updates/index.ts";

/**
 * Where the system comes from: Matrix Market text (an upload), a named generator (poisson2d-300, ...), or an
 * already decoded and validated CSR matrix with its right-hand side (a swarm work unit; payload.ts checked
 * it; the caller may transfer the arrays).
 */
export type SolveSource =
  | { kind: "matrix-market"; matrixText: string; rhsText?: string; name: string }
  | { kind: "generated"; name: string }
  | { kind: "csr"; name: string; a: CsrMatrix; b: Float64Array };

export type BackendChoice = "auto" | "js" | "wasm" | "webgpu";

export interface SolveJobOptions {
  method: MethodName;
  tol: number;
  maxIter: number;
  preconditioner?: PreconditionerName;
  restart?: number;
  updateEvery?: number;
  backend: BackendChoice;
  threads?: number;
  timeLimitMs?: number;
  /** Keep A, b and x in the worker after the solve, so `resolveWarm` can apply updates to them. */
  keepSystem?: boolean;
  /**
   * When updates were applied: also solve the final system cold (from x = 0, same method and backend) and
   * report the iterations the warm start saved. Costs a full solve.
   */
  compareCold?: boolean;
}

/** Incremental updates in a job (live ones, and resolveWarm's batch). */
export interface SolveJobUpdates {
  applied: number;
  rejected: number;
  /** Iterations on the final system: since the last update was applied. */
  iterationsWarm: number;
  /** The cold solve of the final system (null when not asked, not run, or stopped). */
  iterationsCold: number | null;
  coldConverged: boolean | null;
  /** iterationsCold − iterationsWarm (null without a cold solve). */
  saved: number | null;
  /** ‖b − A x‖/‖b‖ where the warm start began, on the updated system (a cold start has 1). */
  warmStartResidual: number | null;
  /** Why there is no cold comparison, or how it ended, when that is not obvious. */
  note?: string;
}

/**
 * Events besides iteration updates: the system's size once loaded (for validating update indices),
 * each live update applied or rejected, and the start of the cold comparison solve.
 */
export type SolveJobEvent =
  { type: "system"; n: number; nnz: number; liveUpdates: boolean } | LiveUpdateEvent | { type: "cold_start" };

/**
 * What crosses from the worker back to the page (structured-clone friendly): the solve's SolvedRhs (the
 * shape a swarm unit's solution keeps up to the requester, src/core/protocol/rhs-solution.ts) with what
 * the dashboard shows beside it.
 */
export interface SolveJobSummary extends SolvedRhs {
  name: string;
  n: number;
  nnz: number;
  /** True when no right-hand side was given and b = A·1 was used. */
  rhsIsAOnes: boolean;
  converged: boolean;
  reason: StopReason;
  iterations: number;
  relResidual: number;
  bestResidual: number;
  methodPath: string[];
  stages: StageReport[];
  backend: BackendName;
  threads: number;
  /** Solver time, and parse/setup time before it. */
  ms: number;
  setupMs: number;
  /** Notes the worker wants the user to see (fallbacks, e.g. "WebGPU unavailable: used wasm"). */
  notes: string[];
  x: Float64Array;
  /** Present when updates were applied or rejected (live, or by resolveWarm). */
  updates?: SolveJobUpdates;
}

export type SolveJobOutcome =
  { ok: true; summary: SolveJobSummary } | { ok: false; error: { code: string; message: string } };

export interface SolverWorkerApi {
  /**
   * `mailbox` (src/core/solver/updates/mailbox.ts) carries updates of A and b posted while the solve runs; events
   * report them. Both are optional (a swarm work unit passes neither).
   */
  solve(
    source: SolveSource,
    options: SolveJobOptions,
    onUpdate: (update: IterationUpdate) => void,
    cancelFlag: Int32Array | null,
    mailbox?: SharedArrayBuffer | null,
    onEvent?: (event: SolveJobEvent) => void,
  ): Promise<SolveJobOutcome>;
  /**
   * Applies `updates` (0-based) to the system the last solve kept (options.keepSystem) and re-solves warm
   * from its x; the mailbox takes further updates while this runs. `seq` names the batch in the events.
   * Error code "no_kept_system" when there is none; an invalid batch leaves the kept system as it was.
   */
  resolveWarm(
    updates: SystemUpdates,
    seq: number,
    options: SolveJobOptions,
    onUpdate: (update: IterationUpdate) => void,
    cancelFlag: Int32Array | null,
    mailbox: SharedArrayBuffer | null,
    onEvent: (event: SolveJobEvent) => void,
  ): Promise<SolveJobOutcome>;
}
