import type { ThreadSolveRequest, ThreadUpdate } from "./solve-messages.ts";

/** A volunteer's progress as the session saw it: its attempt, iteration, residual and arrival. */
export interface ProgressPoint {
  readonly attempt: number;
  readonly iteration: number;
  /** The volunteer's relative residual (NaN when it did not say). */
  readonly residual: number;
  readonly atMs: number;
}

/**
 * A volunteer's progress report (or, with x, the certified end) as the update a solver thread would post:
 * the convergence rate and the time per iteration are measured here between two reports of one attempt
 * (a new attempt starts from scratch, so its rate starts from its own first report); a report carries no
 * flops, memory or x, so those are 0 and x_partial is empty until the certified x.
 */
export function progressUpdate(
  last: ProgressPoint,
  next: ProgressPoint,
  x: Float64Array | null,
  request: Pick<ThreadSolveRequest, "method" | "xHead">,
): ThreadUpdate {
  const steps = next.attempt === last.attempt ? next.iteration - Math.max(0, last.iteration) : 0;
  const rate =
    steps > 0 && last.residual > 0 && next.residual >= 0 ? (next.residual / last.residual) ** (1 / steps) : 0;
  return {
    kind: "update",
    method: request.method,
    iteration: next.iteration,
    residualNorm: next.residual,
    convergenceRate: Number.isFinite(rate) ? rate : 0,
    performance: {
      iteration_time_ms: steps > 0 ? (next.atMs - last.atMs) / steps : 0,
      flops: 0,
      memory_bytes: 0,
    },
    xHead: x === null ? new Float64Array(0) : x.slice(0, request.xHead),
    x,
    verify: x !== null,
  };
}
