import type { CsrMatrix } from "../../sparse/csr.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { DEFAULT_DIRECT_ORDERING, factorsOfUnpermuted, preorderForLu } from "../ordering/lu-ordering.ts";
import type { DirectOrdering } from "../ordering/lu-ordering.ts";
import { SolverError } from "../errors.ts";
import { luNnz, luSolve, sparseLu } from "./sparse-lu.ts";
import type { LuFactors } from "./sparse-lu.ts";

export const DEFAULT_DIRECT_MAX_N = 20_000;
/** nnz(L) + nnz(U) cap: 8e6 entries ≈ 96 MB of factors, about what a browser tab can spare. */
export const DEFAULT_DIRECT_MAX_FILL = 8_000_000;
/** Threshold partial pivoting: prefer the diagonal (keeps the pre-ordering's fill) unless 10× too small. */
const PIVOT_TOL = 0.1;

export interface DirectLimits {
  maxN: number;
  maxFill: number;
  /** Fill-reducing pre-ordering (ordering/lu-ordering.ts); default amd. */
  ordering?: DirectOrdering;
}

export interface DirectFactorization {
  factors: LuFactors;
  /** nnz(L) + nnz(U) predicted before factorising (symbolic Cholesky of the ordered A+Aᵀ pattern). */
  estimatedFill: number;
  label: string;
  ordering: DirectOrdering;
  /** How rows and columns were pre-ordered, for the stage note. */
  orderingNote: string;
}

/**
 * Pre-orders A (default: approximate minimum degree on A + Aᵀ, see ordering/lu-ordering.ts; the order is used
 * for columns, rows follow by diagonal-preferring threshold pivoting) and factors P A Q = L U. Refuses up
 * front, with a code: n above maxN (too_large_for_direct) or a symbolic fill estimate above maxFill
 * (fill_too_large); the factorisation also stops at maxFill. Throws singular_matrix.
 */
export function factorDirect(a: CsrMatrix, limits: DirectLimits): DirectFactorization {
  const n = a.rows;
  if (n > limits.maxN) {
    throw new SolverError(
      "too_large_for_direct",
      `n = ${n} exceeds the direct solver limit of ${limits.maxN}`,
    );
  }
  const pre = preorderForLu(a, limits.ordering ?? DEFAULT_DIRECT_ORDERING, limits.maxFill);
  const estimatedFill = pre.estimatedFill;
  if (estimatedFill > limits.maxFill) {
    throw new SolverError(
      "fill_too_large",
      `estimated LU fill (${pre.description}) exceeds the limit of ${limits.maxFill} entries` +
        (Number.isFinite(estimatedFill) ? `: ${estimatedFill}` : ""),
    );
  }
  const factors = sparseLu(pre.matrix, pre.q, { pivotTol: PIVOT_TOL, maxFill: limits.maxFill });
  return {
    factors: factorsOfUnpermuted(factors, pre.rowOf),
    estimatedFill,
    label: "direct",
    ordering: pre.ordering,
    orderingNote: pre.description,
  };
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
  const note =
    `LU (${fact.orderingNote}, threshold pivoting): nnz(L+U) = ${fill}, ` + `estimated ${fact.estimatedFill}`;
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
