import { JobError } from "../../protocol/job-errors.ts";
import { JOB_PROTOCOL_VERSION, type UnitAssign } from "../../protocol/jobs.ts";
import type { SolveJob, WorkUnit } from "../model.ts";
import type { SchedulerAction } from "../scheduler/scheduler.ts";

/**
 * The signed-body content of a scheduler "assign" action: what the volunteer needs to run the unit (the
 * matrix and its right-hand sides by digest, method, tolerance, iteration cap, backend), so the integrator
 * never rebuilds it by hand. The volunteer fetches any blob it does not hold by digest, validates it
 * (payload.ts) and answers "invalid_input" instead of running a unit whose input fails.
 */
export function assignBody(
  job: SolveJob,
  unit: WorkUnit,
  action: Extract<SchedulerAction, { type: "assign" }>,
): UnitAssign {
  if (action.unitId !== unit.id || unit.jobId !== job.id) {
    throw new JobError("invalid_state", `action for ${action.unitId} does not match unit ${unit.id}`);
  }
  if (unit.task.kind !== "rhs-group") {
    throw new JobError("invalid_state", `unit ${unit.id}: ${unit.task.kind} units have no wire format yet`);
  }
  const { spec } = job;
  const { rhsStart, rhsCount } = unit.task;
  return {
    type: "unit-assign",
    jv: JOB_PROTOCOL_VERSION,
    unitId: unit.id,
    attempt: action.attempt,
    deadlineMs: action.deadlineMs,
    heartbeatIntervalMs: action.heartbeatIntervalMs,
    task: {
      kind: "solve",
      matrix: spec.matrix,
      rhs: spec.rhs.slice(rhsStart, rhsStart + rhsCount),
      method: spec.method,
      ...(spec.preconditioner !== undefined ? { preconditioner: spec.preconditioner } : {}),
      tol: job.tolerance,
      maxIter: spec.maxIter,
      ...(spec.backend !== undefined ? { backend: spec.backend } : {}),
    },
  };
}
