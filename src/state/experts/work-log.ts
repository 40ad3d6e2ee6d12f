import type { HostBatchEntry } from "../../core/experts/host/index.ts";
import type { UnitLogEntry } from "../../core/jobs/volunteer/index.ts";

/**
 * The Contribute view's "Units computed": the solve units and distributed blocks this tab's volunteer ended
 * (core/jobs/volunteer/unit-log.ts) and the expert batches its host ran (core/experts/host/batch-log.ts),
 * in one list, newest first, each in words, with the requester's verdict once it came (display only).
 */
export type WorkLogKind = "solve" | "block" | "experts";

export interface WorkLogRow {
  readonly key: string;
  readonly atMs: number;
  readonly requesterId: string;
  readonly kind: WorkLogKind;
  /** "solve unit", "distributed block", "experts: expert-3 (int8)". */
  readonly kindLabel: string;
  /** A solve unit's id, or an expert batch's request id. */
  readonly unit: string;
  /** Rows of an expert batch; null for solve units and blocks. */
  readonly rows: number | null;
  readonly ms: number;
  /** The log's outcome code (unit-log.ts, batch-log.ts). */
  readonly outcome: string;
  readonly outcomeLabel: string;
}

/** What each outcome means to the person; "verified" etc. are the requester's word (display only). */
const UNIT_OUTCOME: Record<UnitLogEntry["outcome"], string> = {
  sent: "sent (no verdict yet)",
  verified: "verified",
  rejected: "rejected by the requester",
  not_converged: "did not converge",
  failed: "failed",
  cancelled: "cancelled",
  ended: "ended",
};

const BATCH_OUTCOME: Record<HostBatchEntry["outcome"], string> = {
  sent: "sent (no verdict yet)",
  accepted: "accepted by the requester",
  rejected: "rejected by the requester",
  failed: "failed",
};

export function workLogRows(
  units: readonly UnitLogEntry[],
  batches: readonly HostBatchEntry[],
): WorkLogRow[] {
  const rows: WorkLogRow[] = units.map((e) => ({
    key: `u#${e.unitId}#${e.attempt}#${e.atMs}`,
    atMs: e.atMs,
    requesterId: e.requesterId,
    kind: e.kind,
    kindLabel: e.kind === "solve" ? "solve unit" : "distributed block",
    unit: e.unitId,
    rows: null,
    ms: e.ms,
    outcome: e.outcome,
    outcomeLabel: UNIT_OUTCOME[e.outcome],
  }));
  for (const b of batches) {
    rows.push({
      key: `x#${b.requesterId}#${b.requestId}#${b.atMs}`,
      atMs: b.atMs,
      requesterId: b.requesterId,
      kind: "experts",
      kindLabel: `experts: ${b.modelLabel}`,
      unit: b.requestId,
      rows: b.rows,
      ms: b.ms,
      outcome: b.outcome,
      outcomeLabel: BATCH_OUTCOME[b.outcome],
    });
  }
  // Both inputs are newest first; a stable sort keeps each one's order among equal times.
  return rows.sort((a, b) => b.atMs - a.atMs);
}
