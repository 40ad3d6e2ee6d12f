import type { CsrMatrix } from "../sparse/csr.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { symmetricGraph } from "./csr-utils.ts";
import { SolverError } from "./errors.ts";
import { envelopeSize, reverseCuthillMcKee } from "./ordering.ts";
import { luNnz, luSolve, sparseLu } from "./sparse-lu.ts";
import type { LuFactors } from "./sparse-lu.ts";

export const DEFAULT_DIRECT_MAX_N = 20_000;
/** nnz(L) + nnz(U) cap: 8e6 entries ≈ 96 MB of factors, about what a browser tab can spare. */
export const DEFAULT_DIRECT_MAX_FILL = 8_000_000;
/** Threshold partial pivoting: prefer the diagonal (keeps RCM's envelope) unless it is 10× too small. */
const PIVOT_TOL = 0.1;

export interface DirectLimits {
  maxN: number;
  maxFill: number;
}

export interface DirectFactorization {
  factors: LuFactors;
  /** nnz(L) + nnz(U) predicted from the RCM envelope before factorising. */
  estimatedFill: number;
  label: string;
}

/**
 * Orders A + Aᵀ by reverse Cuthill–McKee (used as the column order; rows follow by pivoting) and factors
 * P A Q = L U. Refuses up front, with a code: n above maxN (too_large_for_direct) or an envelope estimate
 * above maxFill (fill_too_large); the factorisation also stops at maxFill. Throws singular_matrix.
 */
export function factorDirect(a: CsrMatrix, limits: DirectLimits): DirectFactorization {
  const n = a.rows;
  if (n > limits.maxN) {
    throw new SolverError(
      "too_large_for_direct",
      `n = ${n} exceeds the direct solver limit of ${limits.maxN}`,
    );
  }
  const g = symmetricGraph(a);
  const q = reverseCuthillMcKee(g);
  const estimatedFill = 2 * envelopeSize(g, q) + n;
  if (estimatedFill > limits.maxFill) {
    throw new SolverError(
      "fill_too_large",
      `estimated LU fill ${estimatedFill} exceeds the limit of ${limits.maxFill} entries`,
    );
  }
  const factors = sparseLu(a, q, { pivotTol: PIVOT_TOL, maxFill: limits.maxFill });
  return { factors, estimatedFill, label: "direct" };
}

/**
 * Direct solve for the correction: r = b − A x, A d = r, x += d, then up to `refinements` steps of
 * iterative refinement with the same factors (each: one SpMV and two triangular solves). Working on the
 * correction keeps whatever an earlier stage achieved and makes refinement the same code path.
 */
export function runDirect(ctx: MethodContext, limits: DirectLimits, refinements = 2): MethodOutcome {
  const { x, monitor, n } = ctx;
  const label = "direct";
  let fact: DirectFactorization;
  try {
    fact = factorDirect(ctx.a, limits);
  } catch (e) {
    if (e instanceof SolverError && e.code === "singular_matrix") {
      return { reason: "singular", label, note: e.message };
    }
    throw e;
  }
  const fill = luNnz(fact.factors);
  const note = `LU (RCM column order, threshold pivoting): nnz(L+U) = ${fill}, estimated ${fact.estimatedFill}`;
  monitor.beginStage({
    label,
    flopsPerIter: 2 * ctx.a.rowPtr[n]! + 4 * fill,
    memoryBytes: 12 * fill + ctx.memoryBytes(3),
  });
  const r = ctx.vec(0);
  const d = ctx.vec(1);
  const best = ctx.vec(2);
  const work = new Float64Array(n);
  let rel = ctx.trueRel(r);
  monitor.record(rel, x);
  best.set(x);
  let bestRel = rel;
  for (let step = 0; step <= refinements; step++) {
    const stop = monitor.interrupted();
    if (stop !== null) return { reason: stop, label, note };
    luSolve(fact.factors, r, d, work);
    ctx.kernels.axpy(1, d, x);
    rel = ctx.trueRel(r);
    monitor.tick(rel, x);
    if (!(rel < bestRel)) break; // refinement stalled at rounding level (or worsened): stop here
    best.set(x);
    bestRel = rel;
  }
  // Keep the best of the refinement steps.
  if (!(rel <= bestRel)) {
    x.set(best);
    rel = bestRel;
  }
  return { reason: rel <= ctx.tol ? "converged" : "stagnated", label, note };
}
