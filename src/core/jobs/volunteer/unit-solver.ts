import type { CsrMatrix } from "../../sparse/csr.ts";
import type { MethodName, PreconditionerName } from "../../solver/types.ts";

/**
 * What the volunteer runtime needs from a solver: one solve of A x = b, with progress and cancellation.
 * In a tab it runs in the solver Web Worker (workers/solver/unit-client.ts); in Node tests it can call
 * the core solver directly. The runtime stays free of DOM and Node APIs.
 */
export type UnitBackendUsed = "js" | "wasm" | "webgpu";

export interface UnitSolveOptions {
  readonly method: MethodName;
  readonly preconditioner?: PreconditionerName;
  readonly tol: number;
  readonly maxIter: number;
  /** "webgpu" when the unit requires it; otherwise the solver picks (wasm, else js). */
  readonly backend: "auto" | "webgpu";
  /** Progress updates every this many iterations (fewer updates cost less; see the CPU-share throttle). */
  readonly updateEvery: number;
}

export interface UnitSolveProgress {
  readonly iteration: number;
  readonly relResidual: number;
}

export type UnitSolveOutcome =
  | {
      readonly ok: true;
      readonly x: Float64Array;
      readonly converged: boolean;
      readonly iterations: number;
      /** The solver's own f64 certificate (the requester recomputes it anyway). */
      readonly relResidual: number;
      readonly methodPath: string[];
      readonly backend: UnitBackendUsed;
      readonly ms: number;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface UnitSolveHandle {
  readonly outcome: Promise<UnitSolveOutcome>;
  /** Stops the solve (the outcome then resolves, normally with a "cancelled" error, within about 1 s). */
  cancel(): void;
}

export interface UnitSolver {
  solve(
    a: CsrMatrix,
    b: Float64Array,
    options: UnitSolveOptions,
    onProgress: (p: UnitSolveProgress) => void,
  ): UnitSolveHandle;
  dispose(): void;
}
