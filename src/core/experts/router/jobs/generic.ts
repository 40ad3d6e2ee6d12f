import {
  MAX_XP_OUTPUT_NAME_CHARS,
  MAX_XP_OUTPUTS,
  MAX_XP_ROWS,
  MAX_XP_VALUES,
} from "../../../protocol/experts.ts";
import type { OutputLayout } from "../dispatch/outputs.ts";

/**
 * Sizing of a generic job (ExpertRouter.runModel): how many rows go in one request, and how long a host is
 * given to answer. Unlike the experts, nothing is known in advance about an uploaded model's cost or output
 * size, so both come from what the requester measured on its own rows (the canaries it computes first).
 */

/** Rows of one classify() call; more is refused (split the job). */
export const MAX_CLASSIFY_ROWS = 100_000;
/** Rows of one runModel() call. */
export const MAX_RUN_MODEL_ROWS = 1_000_000;
/** Default share of this tab's own time one request should stand for. */
export const DEFAULT_TARGET_BATCH_MS = 2_000;

/** Why this model's outputs cannot travel in an infer-result at all (then every row runs here), or null. */
export function cannotTravel(layout: OutputLayout, inputCols: number, canaries: number): string | null {
  if (layout.length > MAX_XP_OUTPUTS) {
    return `the model has ${layout.length} outputs; a result carries at most ${MAX_XP_OUTPUTS}`;
  }
  const long = layout.find((b) => b.name.length > MAX_XP_OUTPUT_NAME_CHARS);
  if (long) return `output name "${long.name.slice(0, 40)}…" is longer than ${MAX_XP_OUTPUT_NAME_CHARS}`;
  if (maxRowsPerMessage(layout, inputCols) <= canaries) {
    return `one row of the model is too large for a message (${MAX_XP_VALUES} values)`;
  }
  return null;
}

/** Rows (canaries included) whose inputs and outputs fit one message each. */
function maxRowsPerMessage(layout: OutputLayout, inputCols: number): number {
  const width = layout.reduce((n, b) => n + b.cols, 0);
  return Math.min(MAX_XP_ROWS, Math.floor(MAX_XP_VALUES / Math.max(inputCols, width, 1)));
}

/** Real rows per request: the asked batch, lowered to what fits a message (with its canaries) and to about
 *  `targetBatchMs` of this tab's own computation (a slow model gets small batches, so a lost one costs
 *  little and timeouts stay short). */
export function genericBatchRows(options: {
  readonly asked: number;
  readonly layout: OutputLayout;
  readonly inputCols: number;
  readonly canaries: number;
  readonly localMsPerRow: number;
  readonly targetBatchMs: number;
}): number {
  const byMessage = maxRowsPerMessage(options.layout, options.inputCols) - options.canaries;
  const bySpeed = Math.floor(options.targetBatchMs / Math.max(options.localMsPerRow, 1e-3));
  return Math.max(1, Math.min(options.asked, byMessage, bySpeed));
}

/**
 * Per-host timing of one model: an EWMA of round-trip ms per row, and the timeout of a request from it.
 * A host not measured yet gets max(firstTimeoutMs, timeoutFactor × the requester's own ms/row × rows): its
 * first request may include warm-up, and it may be slower than the requester, but not by more than that.
 */
export class ModelTiming {
  readonly #perPeer = new Map<string, number>();

  constructor(
    private readonly localMsPerRow: number,
    private readonly o: {
      readonly firstTimeoutMs: number;
      readonly minTimeoutMs: number;
      readonly maxTimeoutMs: number;
      readonly timeoutFactor: number;
    },
    private readonly alpha = 0.2,
  ) {}

  timeoutMs(peerId: string, rows: number): number {
    const perRow = this.#perPeer.get(peerId);
    if (perRow === undefined) {
      return Math.min(
        this.o.maxTimeoutMs,
        Math.max(this.o.firstTimeoutMs, this.o.timeoutFactor * this.localMsPerRow * rows),
      );
    }
    return Math.min(this.o.maxTimeoutMs, Math.max(this.o.minTimeoutMs, this.o.timeoutFactor * perRow * rows));
  }

  measured(peerId: string, rows: number, ms: number): void {
    const perRow = ms / Math.max(1, rows);
    const old = this.#perPeer.get(peerId);
    this.#perPeer.set(peerId, old === undefined ? perRow : old + this.alpha * (perRow - old));
  }
}
