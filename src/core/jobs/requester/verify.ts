import type { VerifiedMark } from "../job-store.ts";
import type { UnitResultMessage } from "../../protocol/jobs.ts";
import type { SolveJob } from "../model.ts";
import type { RequesterInputs } from "./inputs.ts";
import { residualLineOf, type RequesterView } from "./view.ts";
import { checkUnitResult } from "./result-check.ts";
import type { Scheduler, VerificationVerdict } from "../scheduler/scheduler.ts";

/** What verifying a right-hand-side group's result needs from the requester runtime. */
export interface VerifyContext {
  readonly scheduler: Scheduler;
  readonly inputs: RequesterInputs;
  /** Queues the verified mark for the store (write-behind.ts). */
  readonly markVerified: (mark: VerifiedMark) => void;
  readonly view: RequesterView;
}

/**
 * The requester's own check of a right-hand-side group's solutions (result-check.ts: one SpMV per
 * solution against the job's inputs). A verified result is marked so for IndexedDB and its certificate
 * (worst over its solutions) is shown.
 */
export async function verifyRhsGroup(
  ctx: VerifyContext,
  job: SolveJob,
  unitId: string,
  xs: readonly Float64Array[],
  claims: UnitResultMessage["solutions"],
): Promise<VerificationVerdict> {
  const unit = ctx.scheduler.unit(unitId);
  if (unit === undefined || unit.task.kind !== "rhs-group") {
    return { ok: false, code: "invalid", reason: `unit ${unitId} is not a right-hand-side group` };
  }
  const a = await ctx.inputs.matrixOf(job.spec.matrix.sha256);
  const refs = job.spec.rhs.slice(unit.task.rhsStart, unit.task.rhsStart + unit.task.rhsCount);
  const bs = await Promise.all(refs.map((r) => ctx.inputs.vectorOf(r.sha256, a.rows)));
  const result = checkUnitResult(a, bs, xs, claims, job.tolerance);
  const attempt = unit.result?.attempt ?? unit.attempt;
  if (result.verdict.ok) {
    ctx.markVerified({ unitId, attempt, relResiduals: result.relResiduals });
    ctx.view.setUnitResidual(unitId, Math.max(...result.relResiduals));
    // Each line ends at its certificate, at the iteration the volunteer says it stopped (a claim, used
    // only to place the point; the schema bounds it).
    result.relResiduals.forEach((residual, i) => {
      const line = residualLineOf(unit, i);
      const iteration = claims[i]?.iterations ?? 0;
      if (line !== null) ctx.view.certify(job.id, line.key, line.label, attempt, { iteration, residual });
    });
  }
  return result.verdict;
}

/**
 * Claims for a stored result re-verified after a reload: the stored row has no claims, so these claim
 * nothing a check could trust (an unverifiable stored result is simply invalid).
 */
export function storedResultClaims(count: number): UnitResultMessage["solutions"] {
  return Array.from({ length: count }, () => ({
    x: { sha256: "0".repeat(64), byteLength: 0 },
    converged: true,
    iterations: 0,
    relResidual: null,
    methodPath: [],
  }));
}

export function invalidVerdict(error: unknown): VerificationVerdict {
  return { ok: false, code: "invalid", reason: error instanceof Error ? error.message : String(error) };
}
