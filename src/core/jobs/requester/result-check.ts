import type { CsrMatrix } from "../../sparse/csr.ts";
import type { UnitSolution } from "../../protocol/jobs.ts";
import type { VerificationVerdict } from "../scheduler/scheduler.ts";
import { verifySolveResult } from "../verify.ts";

/**
 * The requester's verdict on one unit result: every solution must pass its own f64 residual check
 * (verify.ts, one SpMV each). What the volunteer claimed matters in one case only: a volunteer that says
 * "did not converge" and whose claimed residual agrees with ours (within 10×) may have made an honest
 * report; that is "not_converged" (a claim the scheduler judges later: scheduler/claims.ts) instead of
 * "invalid". Except when there was no progress: volunteers start from x0 = 0, whose relative residual is
 * exactly 1, so a residual not below 1 means the volunteer did no useful work (x = 0 "did not converge,
 * residual 1" costs a griefer nothing): that is invalid whatever it claims.
 */
export interface UnitCheck {
  readonly verdict: VerificationVerdict;
  /** The requester's own residual per solution (Infinity where it could not be computed). */
  readonly relResiduals: number[];
}

const HONEST_CLAIM_FACTOR = 10;
/** ‖b − A·0‖/‖b‖: the relative residual of the start, x0 = 0. */
const START_RESIDUAL = 1;

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
    if (v.code === "above_tolerance" && !(v.relResidual < START_RESIDUAL)) {
      failure = {
        ok: false,
        code: "invalid",
        reason:
          `solution ${i} made no progress: residual ${v.relResidual.toExponential(3)} is not below ` +
          `the start's (${START_RESIDUAL} for x0 = 0)`,
      };
      continue;
    }
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
