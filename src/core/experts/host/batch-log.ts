import type { ModelSource } from "../models/runner.ts";

/**
 * The batches this host ran for requesters (the Contribute view's "Units computed" shows them beside the
 * solve units): one entry per infer-request whose run ended here, newest first, bounded.
 *
 * There is no verdict to show: the router sends hosts none. Its checks are per row, not per batch (canary
 * rows, replication on another host, spot checks; verification/), some settle only once a later batch
 * agrees or not, and a ban is the router's own business. So an entry says only what this host knows:
 * the result was sent ("sent"), or the run failed ("failed"); the view says "verdict not reported".
 */
export type HostBatchOutcome = "sent" | "failed";

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

export class HostBatchLog {
  readonly #limit: number;
  #entries: HostBatchEntry[] = [];

  constructor(limit = HOST_BATCH_LOG_LIMIT) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Newest first; a new array after each change (views compare by identity). */
  get entries(): readonly HostBatchEntry[] {
    return this.#entries;
  }

  add(entry: HostBatchEntry): void {
    this.#entries = [entry, ...this.#entries.slice(0, this.#limit - 1)];
  }
}

/** A loaded model's name for the log: the site manifest's name and variant ("expert-3 (int8)"), else
 *  "uploaded model" and its digest's start (a requester's own label is not repeated: it could say anything). */
export function modelLabel(source: ModelSource): string {
  return source.kind === "manifest"
    ? `${source.entry.name} (${source.entry.variant})`
    : `uploaded model ${source.sha256.slice(0, 10)}`;
}
