import type { CsrMatrix } from "../../sparse/csr.ts";
import type { SolvedRhs } from "../../protocol/rhs-solution.ts";
import type { MethodName, PreconditionerName } from "../../solver/types.ts";

/**
 * What the volunteer runtime needs from a solver: one solve of A x = b, with progress and cancellation.
 * In a tab it runs in the solver Web Worker (workers/solver/unit-client.ts); in Node tests it can call
 * the core solver directly. The runtime stays free of DOM and Node APIs.
 */
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

/** A solve's result: the solution as it travels on to the requester (protocol/rhs-solution.ts), or why
 *  there is none. */
export type UnitSolveOutcome =
  | { readonly ok: true; readonly solved: SolvedRhs }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** What a unit's solve takes besides the system: its signal and its progress callback. */
export interface UnitSolveCall {
  /**
   * Aborting stops the solve within about 1 s: the promise then rejects (an AbortError) or resolves with
   * what the solver reached; the runtime, which aborted it, ignores either.
   */
  readonly signal: AbortSignal;
  readonly onProgress: (p: UnitSolveProgress) => void;
}

export interface UnitSolver {
  solve(
    a: CsrMatrix,
    b: Float64Array,
    options: UnitSolveOptions,
    call: UnitSolveCall,
  ): Promise<UnitSolveOutcome>;
  dispose(): void;
}
