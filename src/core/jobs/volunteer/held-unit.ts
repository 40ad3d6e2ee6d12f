import type { SolveTask } from "../../protocol/jobs.ts";

/** A unit a volunteer accepted and holds until it ends: queued, then run (runtime.ts, unit-run.ts). */
export interface HeldUnit {
  readonly unitId: string;
  readonly jobId: string;
  readonly attempt: number;
  readonly requesterId: string;
  readonly task: SolveTask;
  readonly deadlineMs: number;
  readonly heartbeat: ReturnType<typeof setInterval>;
  /** Aborted when the unit must stop: the requester cancelled, its link closed, or this volunteer paused.
   *  Its signal goes with the unit's solves, so aborting also stops the solver. */
  readonly stop: AbortController;
}

/** Units are held by (unit id, attempt): a reissued unit is another piece of work. */
export const keyOf = (unitId: string, attempt: number): string => `${unitId}#${attempt}`;
/** A unit id is "<job id>/<index>". */
export const jobIdOf = (unitId: string): string => unitId.slice(0, unitId.lastIndexOf("/"));
export const stopped = (unit: HeldUnit): boolean => unit.stop.signal.aborted;

/** 0..1 from a residual on its way from 1 to tol (log scale), for a progress bar. */
export function residualProgress(relResidual: number, tol: number): number {
  if (!(relResidual > 0) || !(tol > 0 && tol < 1)) return 0;
  if (relResidual <= tol) return 1;
  return Math.max(0, Math.min(1, Math.log(relResidual) / Math.log(tol)));
}
