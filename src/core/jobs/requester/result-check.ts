import type { CsrMatrix } from "../../sparse/csr.ts";
import type { UnitSolution } from "../../protocol/jobs.ts";
import type { VerificationVerdict } from "../scheduler/scheduler.ts";
import { verifySolveResult } from "../verify.ts";

/**
 * The requester's verdict on one unit result: every solution must pass its own f64 residual check
 * (verify.ts, one SpMV each). What the volunteer claimed matters in one case only: a volunteer that says
 * "did not converge" and whose claimed residual agrees with ours (within 10×) made an honest report; that
 * is "not_converged" (retried elsewhere, no reputation change) instead of "invalid".
 */
export interface UnitCheck {
  readonly verdict: VerificationVerdict;
  /** The requester's own residual per solution (Infinity where it could not be computed). */
  readonly relResiduals: number[];
}

const HONEST_CLAIM_FACTOR = 10;

export function checkUnitResult(
  a: CsrMatrix,
  bs: readonly Float64Array[],
  xs: readonly Float64Array[],
  claims: readonly UnitSolution[],
  tol: number,
): UnitCheck {
  if (xs.length !== bs.length || claims.length !== bs.length) {
    return {
      verdict: {
        ok: false,
        code: "invalid",
        reason: `the unit has ${bs.length} right-hand sides, the result ${xs.length} solutions`,
      },
      relResiduals: bs.map(() => Infinity),
    };
  }
  const rels: number[] = [];
  let failure: VerificationVerdict | null = null;
  for (let i = 0; i < bs.length; i++) {
    const v = verifySolveResult(a, bs[i]!, xs[i]!, tol);
    rels.push(Number.isFinite(v.relResidual) ? v.relResidual : Infinity);
    if (v.ok || failure !== null) continue;
    const claim = claims[i]!;
    const honest =
      !claim.converged &&
      claim.relResidual !== null &&
      v.code === "above_tolerance" &&
      v.relResidual <= HONEST_CLAIM_FACTOR * claim.relResidual &&
      claim.relResidual <= HONEST_CLAIM_FACTOR * v.relResidual;
    failure = honest
      ? {
          ok: false,
          code: "not_converged",
          reason: `solution ${i} did not converge: residual ${v.relResidual.toExponential(3)} reached`,
        }
      : { ok: false, code: "invalid", reason: `solution ${i}: ${v.reason}` };
  }
  return { verdict: failure ?? { ok: true }, relResiduals: rels };
}
