/**
 * The contract between the f64 refinement loop (CPU) and an f32 inner solver (GPU, or a CPU stand-in in
 * unit tests). Free of WebGPU types so the refinement logic can be tested in Node.
 */
export type InnerReason =
  "converged" | "max_iterations" | "breakdown" | "diverged" | "cancelled" | "time_limit";

export interface InnerRunOptions {
  /** Relative reduction of the (f32, recursively updated) residual at which the inner solve stops. */
  tol: number;
  /** Iterations this inner solve may encode at most. */
  maxIter: number;
  /** Iterations between residual readbacks (>= 10). */
  checkEvery: number;
  signal?: AbortSignal | undefined;
  /** performance.now() value after which the solve stops with time_limit. */
  deadlineMs: number;
  /** Called at every readback with the iterations done in this inner solve and ‖r‖/‖r₀‖ (f32 recursion). */
  onCheck?: ((iterations: number, relResidual: number) => void) | undefined;
}

export interface InnerOutcome {
  /** The correction d ≈ A⁻¹ rhs (f32). May hold non-finite values after a breakdown: callers check. */
  x: Float32Array;
  reason: InnerReason;
  /** Iterations that did work (the GPU freezes after convergence; overshoot in the last batch is not counted). */
  iterations: number;
  /** Iterations encoded (>= iterations: the last batch is encoded whole). */
  encoded: number;
  relResidual: number;
}

export type InnerSolveFn = (rhs: Float32Array, options: InnerRunOptions) => Promise<InnerOutcome>;
