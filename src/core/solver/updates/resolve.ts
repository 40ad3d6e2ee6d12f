import type { CsrMatrix } from "../../sparse/csr.ts";
import type { Kernels } from "../kernels.ts";
import { solve } from "../solve.ts";
import type { SolveOptions, SolveResult } from "../types.ts";
import { applyUpdates, type SystemUpdates, type UpdatedSystem } from "./patch.ts";

export interface IncrementalResult extends UpdatedSystem {
  /** The re-solve started from the previous x. */
  warm: SolveResult;
  /** A solve of the same updated system from zero (only when compareCold was asked). */
  cold?: SolveResult;
  /** cold.iterations − warm.iterations (only with compareCold). */
  iterationsSaved?: number;
}

/**
 * Apply updates, then re-solve warm from `x` (the previous solution): when the change is small the old x
 * is already close and the iteration only has to remove the correction. With `compareCold` the same system
 * is also solved from zero so the report can say how many iterations the warm start saved.
 */
export function resolveIncremental(
  a: CsrMatrix,
  b: Float64Array,
  x: Float64Array,
  updates: SystemUpdates,
  options: SolveOptions,
  extra: { compareCold?: boolean; kernels?: Kernels } = {},
): IncrementalResult {
  const sys = applyUpdates(a, b, updates);
  const { x0: _ignored, ...base } = options;
  const warm = solve(sys.a, sys.b, { ...base, x0: x }, extra.kernels);
  if (extra.compareCold !== true) return { ...sys, warm };
  const cold = solveCold(sys.a, sys.b, options, extra.kernels);
  return { ...sys, warm, cold, iterationsSaved: cold.iterations - warm.iterations };
}

/**
 * The reference a warm start is judged against: the same system and options from x = 0, silently (no
 * streaming, no live updates, no warm start). Costs a full solve: callers run it only when asked.
 */
export function solveCold(
  a: CsrMatrix,
  b: Float64Array,
  options: SolveOptions,
  kernels?: Kernels,
): SolveResult {
  const { x0: _x0, onUpdate: _onUpdate, liveUpdates: _live, includeXPartial: _partial, ...base } = options;
  return solve(a, b, base, kernels);
}
