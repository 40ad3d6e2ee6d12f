import { VerdictLog } from "../../base/verdict-log.ts";
import type { XpBatchVerdictKind } from "../../protocol/experts.ts";
import type { ModelSource } from "../models/runner.ts";

/**
 * The batches this host ran for requesters (the Contribute view's "Units computed" shows them beside the
 * solve units): one entry per infer-request whose run ended here, newest first, bounded.
 *
 * "sent" means the result left this host, "failed" that the run did; "accepted"/"rejected" are what the
 * requester's router said afterwards in a batch-verdict (router/verification/batch-verdicts.ts). That
 * verdict is display only: a requester may lie or stay silent (a result that arrived after its timeout
 * is never judged), and nothing here trusts it. It is taken only from the requester the batch came from,
 * for a batch still "sent"; any other is counted as ignored.
 */
export type HostBatchOutcome = "sent" | "failed" | XpBatchVerdictKind;

export interface HostBatchEntry {
  /** When the run ended here (ms since the epoch). */
  readonly atMs: number;
  readonly requesterId: string;
  /** The infer-request's id (the requester's, unique per requester only). */
  readonly requestId: string;
  readonly model: string;
  /** What the model is, in this host's words (modelLabel), never the requester's. */
  readonly modelLabel: string;
  readonly rows: number;
  /** Wall time of the run here. */
  readonly ms: number;
  readonly outcome: HostBatchOutcome;
}

export const HOST_BATCH_LOG_LIMIT = 100;

export class HostBatchLog extends VerdictLog<HostBatchEntry> {
  constructor(limit = HOST_BATCH_LOG_LIMIT) {
    super(limit);
  }

  /** Requester `from` says what its check of request `id` concluded; applies only to a "sent" entry of
   *  that requester. Returns whether it did. */
  applyVerdict(from: string, id: string, verdict: XpBatchVerdictKind): boolean {
    return this.judge(from, (e) => e.requestId === id, verdict);
  }
}

/** A loaded model's name for the log: the site manifest's name and variant ("expert-3 (int8)"), else
 *  "uploaded model" and its digest's start (a requester's own label is not repeated: it could say anything). */
export function modelLabel(source: ModelSource): string {
  return source.kind === "manifest"
    ? `${source.entry.name} (${source.entry.variant})`
    : `uploaded model ${source.sha256.slice(0, 10)}`;
}
