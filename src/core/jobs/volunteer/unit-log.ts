import { VerdictLog } from "../../base/verdict-log.ts";
import type { UnitVerdictKind } from "../../protocol/jobs.ts";

/**
 * The log of the work this tab computed for others (the Contribute view's "Units computed", as BOINC
 * Manager's task list): one entry per unit or distributed block that ended here, newest first, bounded.
 *
 * "sent" means the result left this tab; "verified"/"rejected"/"not_converged" are what the requester's
 * optional unit-verdict said afterwards. That verdict is display only: the requester may lie or stay silent,
 * and nothing here trusts it. A verdict is taken only from the requester the unit came from, for the
 * attempt this tab computed; any other is counted as ignored.
 */
export type UnitLogKind = "solve" | "block";
export type UnitLogOutcome = "sent" | UnitVerdictKind | "failed" | "cancelled" | "ended";

export interface UnitLogEntry {
  /** When the unit ended here (ms since the epoch). */
  readonly atMs: number;
  readonly requesterId: string;
  readonly unitId: string;
  readonly attempt: number;
  readonly kind: UnitLogKind;
  /** Time this tab spent on it (a solve: fetching and computing; a block: computing its steps). */
  readonly ms: number;
  readonly outcome: UnitLogOutcome;
}

export const UNIT_LOG_LIMIT = 100;

export class UnitLog extends VerdictLog<UnitLogEntry> {
  constructor(limit = UNIT_LOG_LIMIT) {
    super(limit);
  }

  /**
   * The requester `from` says what its check concluded about (unitId, attempt). Applies only to a "sent"
   * entry of that requester; returns whether it did.
   */
  applyVerdict(from: string, unitId: string, attempt: number, verdict: UnitVerdictKind): boolean {
    return this.judge(from, (e) => e.unitId === unitId && e.attempt === attempt, verdict);
  }
}
