import type { CsrMatrix } from "../sparse/csr.ts";
import { relativeResidual } from "../solver/certificate.ts";

/**
 * How the requester decides whether a volunteer's result is right, without trusting the volunteer.
 *
 * Cost, which is the point (docs/ARCHITECTURE.md, "Verification is cheaper than the work"): one SpMV in
 * f64 (2·nnz flops, ≈ 12·nnz + 20·n bytes moved) per solution vector, plus an O(n) finiteness scan. A solve
 * costs hundreds of SpMVs (494_bus: ~400 CG iterations), so verifying costs well under 1% of the work,
 * where replication (BOINC's default) costs 100% or more.
 */

export type SolveVerificationCode = "dimension_mismatch" | "non_finite" | "above_tolerance";

export type SolveVerification =
  | { readonly ok: true; readonly relResidual: number; readonly code: null; readonly reason: null }
  | {
      readonly ok: false;
      readonly relResidual: number;
      readonly code: SolveVerificationCode;
      readonly reason: string;
    };

function firstNonFinite(x: ArrayLike<number>): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}

/**
 * Accepts x only when the requester's own f64 residual ‖b − A x‖/‖b‖ (certificate.ts) is ≤ tol. Whatever
 * the volunteer claimed is irrelevant. Entries of x that no row touches are checked for finiteness too.
 */
export function verifySolveResult(
  a: CsrMatrix,
  b: Float64Array,
  x: Float64Array,
  tol: number,
): SolveVerification {
  if (x.length !== a.cols || b.length !== a.rows) {
    return {
      ok: false,
      relResidual: Infinity,
      code: "dimension_mismatch",
      reason: `x has ${x.length} entries and b ${b.length}; A is ${a.rows}×${a.cols}`,
    };
  }
  const bad = firstNonFinite(x);
  if (bad >= 0) {
    return { ok: false, relResidual: NaN, code: "non_finite", reason: `x[${bad}] = ${x[bad]} is not finite` };
  }
  const rel = relativeResidual(a, x, b);
  if (rel <= tol) return { ok: true, relResidual: rel, code: null, reason: null };
  return {
    ok: false,
    relResidual: rel,
    code: Number.isFinite(rel) ? "above_tolerance" : "non_finite",
    reason: `relative residual ${rel.toExponential(3)} is above the tolerance ${tol.toExponential(3)}`,
  };
}
