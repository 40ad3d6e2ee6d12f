import type {
  IterationUpdate,
  MethodName,
  PreconditionerName,
  StageReport,
  StopReason,
} from "../../src/core/solver/types.ts";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";

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
}

/** What crosses from the worker back to the page (structured-clone friendly). */
export interface SolveJobSummary {
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
  backend: string;
  threads: number;
  /** Solver time, and parse/setup time before it. */
  ms: number;
  setupMs: number;
  /** Notes the worker wants the user to see (fallbacks, e.g. "WebGPU unavailable: used wasm"). */
  notes: string[];
  x: Float64Array;
}

export type SolveJobOutcome =
  { ok: true; summary: SolveJobSummary } | { ok: false; error: { code: string; message: string } };

export interface SolverWorkerApi {
  solve(
    source: SolveSource,
    options: SolveJobOptions,
    onUpdate: (update: IterationUpdate) => void,
    cancelFlag: Int32Array | null,
  ): Promise<SolveJobOutcome>;
}
