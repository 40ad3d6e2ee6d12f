import type { CsrMatrix } from "../sparse/csr.ts";
import { pickProbeRows, relativeResidual, rowProbe, type ProjectionCheck } from "../solver/certificate.ts";

/**
 * How the requester decides whether a volunteer's result is right, without trusting the volunteer.
 *
 * Cost, which is the point (see DESIGN.md "Verification is cheaper than the work"):
 *  - verifySolveResult: one SpMV in f64 (2·nnz flops, ≈ 12·nnz + 20·n bytes moved) per solution vector, plus
 *    an O(n) finiteness scan. A solve costs hundreds of SpMVs (494_bus: ~400 CG iterations), so verifying
 *    costs well under 1% of the work, where replication (BOINC's default) costs 100% or more.
 *  - spotCheckPartial: O(entries of the probed rows) for the row probes plus O(n) per projection probe
 *    (after the projection check's one-time O(nnz) set-up per secret vector).
 *  - compareReplicas / checkCanary: O(n), but they need a second computation (a replica) or a unit whose
 *    answer is known (a canary), so use them only for results that cannot be certified (inference).
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

/** num/den for non-negative numbers, with 0/0 = 0 and x/0 = ∞ (never NaN). */
function ratioOf(num: number, den: number): number {
  if (num === 0) return 0;
  const r = num / den;
  return Number.isNaN(r) ? Infinity : r;
}

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

export interface PartialCheckOptions {
  /** Built once per (A, b) by the requester with a secret random source (certificate.ts). */
  readonly projection: ProjectionCheck;
  /** Picks the probed rows: keep it secret from volunteers too. */
  readonly random: () => number;
  /** Rows probed per check (default 8). */
  readonly probeRows?: number;
  /** A row residual may exceed the claimed global residual by this factor before the check fails (10). */
  readonly slack?: number;
}

export interface PartialCheck {
  readonly ok: boolean;
  readonly code: SolveVerificationCode | "row_probe_failed" | "projection_failed" | null;
  readonly reason: string | null;
  /** Largest |b_i − (A x)_i| / (claimed·‖b‖) over the probed rows. */
  readonly worstRowRatio: number;
  /** Largest |zᵀ(A x − b)| / (claimed·‖b‖) over the secret vectors. */
  readonly projectionRatio: number;
}

/**
 * Checks a streamed iterate x against the relative residual the volunteer claims for it: every probed row
 * residual must be ≤ slack·claimed·‖b‖ (a row's residual can never exceed the whole residual's norm), and
 * the secret projection zᵀ(A x − b) must be consistent with that norm. A volunteer that streams made-up
 * iterates or understates its residual fails with high probability (certificate.ts explains the odds);
 * an honest one passes, since iteration estimates agree with the true residual within the slack.
 */
export function spotCheckPartial(
  a: CsrMatrix,
  b: Float64Array,
  x: Float64Array,
  claimedRelResidual: number,
  options: PartialCheckOptions,
): PartialCheck {
  const fail = (code: NonNullable<PartialCheck["code"]>, reason: string, row = NaN, proj = NaN) => ({
    ok: false,
    code,
    reason,
    worstRowRatio: row,
    projectionRatio: proj,
  });
  if (x.length !== a.cols || b.length !== a.rows) {
    return fail(
      "dimension_mismatch",
      `x has ${x.length} entries and b ${b.length}; A is ${a.rows}×${a.cols}`,
    );
  }
  const bad = firstNonFinite(x);
  if (bad >= 0) return fail("non_finite", `x[${bad}] = ${x[bad]} is not finite`);
  if (!(claimedRelResidual >= 0 && Number.isFinite(claimedRelResidual))) {
    return fail("non_finite", `claimed residual ${claimedRelResidual} is not a finite non-negative number`);
  }
  const slack = options.slack ?? 10;
  // scale(1) = ‖b‖: the projection check already computed it.
  const allowed = slack * claimedRelResidual * options.projection.scale(1);
  const rows = pickProbeRows(a.rows, options.probeRows ?? 8, options.random);
  const claimedNorm = claimedRelResidual * options.projection.scale(1);
  let worstRow = 0;
  for (const p of rowProbe(a, x, b, rows)) {
    const rounding = 8 * Number.EPSILON * p.scale;
    worstRow = Math.max(worstRow, ratioOf(Math.abs(p.residual), claimedNorm));
    if (!(Math.abs(p.residual) <= allowed + rounding)) {
      return fail(
        "row_probe_failed",
        `row ${p.row} has residual ${p.residual.toExponential(3)}, inconsistent with the claimed ` +
          `relative residual ${claimedRelResidual.toExponential(3)}`,
        worstRow,
      );
    }
  }
  const projection = options.projection.verify(x, claimedRelResidual);
  if (!projection.passed) {
    return fail(
      "projection_failed",
      `projection check is ${projection.worstRatio.toExponential(3)}× the claimed residual`,
      worstRow,
      projection.worstRatio,
    );
  }
  return {
    ok: true,
    code: null,
    reason: null,
    worstRowRatio: worstRow,
    projectionRatio: projection.worstRatio,
  };
}

export interface ReplicaTolerance {
  /** |a_i − b_i| ≤ absolute + relative·max(|a_i|, |b_i|), entry by entry. */
  readonly absolute: number;
  readonly relative: number;
}

export interface ReplicaComparison {
  readonly ok: boolean;
  readonly maxAbsDiff: number;
  /** Index of the worst entry, or -1. */
  readonly worstIndex: number;
  readonly reason: string | null;
}

/**
 * Two results of the same uncertifiable unit from different volunteers. The tolerance is per backend: int8
 * inference on WASM and on WebGPU legitimately differ in the last bits (DESIGN.md), so exact equality
 * would reject honest work.
 */
export function compareReplicas(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tolerance: ReplicaTolerance,
): ReplicaComparison {
  if (a.length !== b.length) {
    return {
      ok: false,
      maxAbsDiff: Infinity,
      worstIndex: -1,
      reason: `lengths differ: ${a.length} vs ${b.length}`,
    };
  }
  let maxAbs = 0;
  let worst = -1;
  let firstBad = -1;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const bi = b[i]!;
    const d = Math.abs(ai - bi);
    const within = d <= tolerance.absolute + tolerance.relative * Math.max(Math.abs(ai), Math.abs(bi));
    if (!within && firstBad < 0) firstBad = i;
    if (!(d <= maxAbs)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      worst = i;
    }
  }
  if (firstBad < 0) return { ok: true, maxAbsDiff: maxAbs, worstIndex: worst, reason: null };
  return {
    ok: false,
    maxAbsDiff: maxAbs,
    worstIndex: worst,
    reason: `entry ${firstBad} differs: ${a[firstBad]} vs ${b[firstBad]} (tolerance ${tolerance.absolute} + ${tolerance.relative}·|v|)`,
  };
}

/**
 * A unit whose answer the requester knows: mixed among real units (same shape, so a volunteer cannot tell
 * which is which), it catches a volunteer that returns plausible garbage for uncertifiable work.
 */
export interface Canary<I> {
  readonly input: I;
  readonly expected: Float64Array;
  readonly tolerance: ReplicaTolerance;
}

export function makeCanary<I>(
  knownInput: I,
  knownOutput: ArrayLike<number>,
  tolerance: ReplicaTolerance,
): Canary<I> {
  return { input: knownInput, expected: Float64Array.from(knownOutput), tolerance };
}

export function checkCanary<I>(canary: Canary<I>, output: ArrayLike<number>): ReplicaComparison {
  return compareReplicas(canary.expected, output, canary.tolerance);
}
