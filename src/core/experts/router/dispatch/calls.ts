import type { ExpertLink } from "../../link/expert-link.ts";
import { blocksToWide, layoutCols, layoutMismatch, type OutputLayout } from "./outputs.ts";
import { splitXpOutputs, type XpInferErrorCode, type XpMessage } from "../../../protocol/experts.ts";

/**
 * One infer-request to one host and its answer: correlated by id and by the authenticated sender (an answer
 * from anyone else is ignored), bounded by a timeout, failed at once when the host's link closes. A result
 * must have exactly the rows sent and the expected width; anything else is "malformed". A call with an
 * output layout (the generic job) asks for every output and gets them back wide (outputs.ts), after
 * checking the blocks are exactly the layout's.
 */
export type CallOutcome =
  | {
      readonly ok: true;
      /** The infer-request's id (the host's batch-verdict names it). */
      readonly id: string;
      readonly data: Float32Array;
      readonly roundTripMs: number;
      readonly hostMs: number;
    }
  | {
      readonly ok: false;
      readonly reason: "timeout" | "closed" | "send-failed" | "error" | "malformed";
      readonly code: XpInferErrorCode | null;
      readonly detail: string;
    };

/** Ids of timed-out calls remembered to count late answers (oldest forgotten first). */
const MAX_REMEMBERED_TIMEOUTS = 4096;

interface Pending {
  readonly hostId: string;
  readonly rows: number;
  readonly outCols: number;
  readonly layout: OutputLayout | null;
  readonly startedMs: number;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly resolve: (outcome: CallOutcome) => void;
}

export class RemoteCalls {
  readonly #pending = new Map<string, Pending>();
  readonly #prefix: string;
  readonly #timedOut = new Set<string>();
  #seq = 0;
  /** Results that arrived after their request timed out. */
  readonly late = new Map<string, number>();

  constructor(
    private readonly link: ExpertLink,
    private readonly nowMs: () => number,
    random: () => number,
  ) {
    this.#prefix = Math.floor(random() * 2 ** 40).toString(36);
  }

  call(
    hostId: string,
    request: { model: string; rows: number; cols: number; data: Float32Array },
    outCols: number,
    timeoutMs: number,
    layout: OutputLayout | null = null,
  ): Promise<CallOutcome> {
    const id = `${this.#prefix}-${++this.#seq}`;
    if (layout) outCols = layoutCols(layout);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        this.#timedOut.add(id);
        if (this.#timedOut.size > MAX_REMEMBERED_TIMEOUTS) {
          this.#timedOut.delete(this.#timedOut.values().next().value!);
        }
        resolve({
          ok: false,
          reason: "timeout",
          code: null,
          detail: `no answer within ${Math.round(timeoutMs)} ms`,
        });
      }, timeoutMs);
      this.#pending.set(id, {
        hostId,
        rows: request.rows,
        outCols,
        layout,
        startedMs: this.nowMs(),
        timer,
        resolve,
      });
      const message: XpMessage = {
        kind: "infer-request",
        id,
        ...request,
        ...(layout ? { allOutputs: true as const } : {}),
      };
      this.link.send(hostId, message).catch((error: unknown) => {
        this.#settle(id, { ok: false, reason: "send-failed", code: null, detail: String(error) });
      });
    });
  }

  /** Feed every xp message here; returns true when it answered a call. */
  onMessage(from: string, message: XpMessage): boolean {
    if (message.kind !== "infer-result" && message.kind !== "infer-error") return false;
    const pending = this.#pending.get(message.id);
    if (!pending || pending.hostId !== from) {
      if (this.#timedOut.delete(message.id)) this.late.set(from, (this.late.get(from) ?? 0) + 1);
      return false;
    }
    if (message.kind === "infer-error") {
      this.#settle(message.id, { ok: false, reason: "error", code: message.code, detail: message.message });
    } else if (message.rows !== pending.rows || message.cols !== pending.outCols) {
      this.#settle(message.id, {
        ok: false,
        reason: "malformed",
        code: null,
        detail: `result is ${message.rows} × ${message.cols}, expected ${pending.rows} × ${pending.outCols}`,
      });
    } else if (pending.layout) {
      const blocks = message.outputs ? splitXpOutputs(message) : null;
      const why = blocks ? layoutMismatch(blocks, pending.rows, pending.layout) : "no output blocks";
      if (why !== null || !blocks) {
        this.#settle(message.id, { ok: false, reason: "malformed", code: null, detail: `result: ${why}` });
      } else {
        this.#settle(message.id, {
          ok: true,
          id: message.id,
          data: blocksToWide(blocks, pending.rows, pending.layout),
          roundTripMs: this.nowMs() - pending.startedMs,
          hostMs: message.ms,
        });
      }
    } else {
      this.#settle(message.id, {
        ok: true,
        id: message.id,
        data: message.data,
        roundTripMs: this.nowMs() - pending.startedMs,
        hostMs: message.ms,
      });
    }
    return true;
  }

  /** The host's link closed: its calls fail now rather than at their timeout. */
  onPeerClosed(peerId: string): void {
    for (const [id, p] of [...this.#pending]) {
      if (p.hostId === peerId)
        this.#settle(id, { ok: false, reason: "closed", code: null, detail: "the host's link closed" });
    }
  }

  inFlight(): number {
    return this.#pending.size;
  }

  close(): void {
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, { ok: false, reason: "closed", code: null, detail: "the router closed" });
    }
  }

  #settle(id: string, outcome: CallOutcome): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(outcome);
  }
}
