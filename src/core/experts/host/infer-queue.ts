import type { ExpertLink } from "../link/expert-link.ts";
import type { LoadedModel, ModelRunner } from "../models/runner.ts";
import type { XpInferErrorCode, XpInferRequest } from "../../protocol/experts.ts";
import type { ExpertHostFault } from "./host-fault.ts";
import { resultBlocks, resultMessage, runErrorCode, type OutputBlock } from "./results.ts";

/**
 * The host's inference queue: infer-requests served one at a time in arrival order (the runner serializes
 * runs anyway; a FIFO keeps latency fair between requesters). Bounded in requests and rows: beyond it a
 * request is answered `busy` at once, so the requester reroutes instead of waiting. Every answer, result or
 * infer-error, goes back over the link from here.
 */
export interface InferQueueOptions {
  readonly link: ExpertLink;
  readonly runner: ModelRunner;
  readonly maxQueuedRequests: number;
  readonly maxQueuedRows: number;
  readonly fault: ExpertHostFault | null;
  /** The model a request names, if loaded here (hosted-models.ts). */
  readonly modelOf: (sha256: string) => LoadedModel | undefined;
  /** A count changed (the host emits its stats). */
  readonly changed: () => void;
}

interface Queued {
  readonly from: string;
  readonly request: XpInferRequest;
}

export class InferQueue {
  readonly #queue: Queued[] = [];
  readonly #errors: Partial<Record<XpInferErrorCode, number>> = {};
  #queuedRows = 0;
  #running = false;
  #closed = false;
  #batches = 0;
  #rows = 0;
  #busyMs = 0;

  constructor(private readonly o: InferQueueOptions) {}

  get queuedRequests(): number {
    return this.#queue.length;
  }

  get queuedRows(): number {
    return this.#queuedRows;
  }

  counts(): {
    batchesServed: number;
    rowsServed: number;
    busyMs: number;
    errorsSent: Partial<Record<XpInferErrorCode, number>>;
  } {
    return {
      batchesServed: this.#batches,
      rowsServed: this.#rows,
      busyMs: this.#busyMs,
      errorsSent: { ...this.#errors },
    };
  }

  /** Queues a request for a hosted model with the right width, room permitting; else answers why not. */
  accept(from: string, request: XpInferRequest): void {
    const info = this.o.modelOf(request.model);
    if (!info) {
      return this.refuse(
        from,
        request.id,
        "model_missing",
        `model ${request.model.slice(0, 12)} is not hosted here`,
      );
    }
    if (request.cols !== info.inputCols) {
      return this.refuse(
        from,
        request.id,
        "bad_input",
        `the model takes ${info.inputCols} values per row, got ${request.cols}`,
      );
    }
    if (
      this.#queue.length >= this.o.maxQueuedRequests ||
      this.#queuedRows + request.rows > this.o.maxQueuedRows
    ) {
      return this.refuse(
        from,
        request.id,
        "busy",
        `queue full (${this.#queue.length} requests, ${this.#queuedRows} rows)`,
      );
    }
    this.#queue.push({ from, request });
    this.#queuedRows += request.rows;
    void this.#pump();
  }

  /** Answers an infer-request with an infer-error (counted). */
  refuse(to: string, id: string, code: XpInferErrorCode, message: string): void {
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
    this.o.link
      .send(to, { kind: "infer-error", id, code, message: message.slice(0, 500) })
      .catch(() => undefined);
    this.o.changed();
  }

  /** Every queued request is refused with `code` (the batch running completes). */
  drain(code: XpInferErrorCode, message: string): void {
    for (const { from, request } of this.#queue.splice(0)) this.refuse(from, request.id, code, message);
    this.#queuedRows = 0;
  }

  /** The requester left: its queued requests go unanswered. */
  dropFrom(peerId: string): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const item = this.#queue[i]!;
      if (item.from !== peerId) continue;
      this.#queuedRows -= item.request.rows;
      this.#queue.splice(i, 1);
    }
  }

  /** Queued requests are answered `shutting_down`; the batch running completes unanswered. */
  close(message: string): void {
    this.drain("shutting_down", message);
    this.#closed = true;
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift()) {
        this.#queuedRows -= item.request.rows;
        await this.#serve(item);
        if (this.#closed) return;
      }
    } finally {
      this.#running = false;
    }
  }

  async #serve({ from, request }: Queued): Promise<void> {
    const info = this.o.modelOf(request.model);
    if (!info) return this.refuse(from, request.id, "model_missing", "the model was released before it ran");
    let blocks: OutputBlock[];
    let ms: number;
    try {
      const out = await this.o.runner.run(request.model, request.data, request.rows);
      blocks = resultBlocks(request, info, out);
      ms = out.ms;
    } catch (error) {
      return this.refuse(
        from,
        request.id,
        runErrorCode(error),
        String(error instanceof Error ? error.message : error),
      );
    }
    if (this.#closed) return;
    const fault = this.o.fault;
    if (fault) for (const b of blocks) b.data = fault.corrupt(b.data, b.cols);
    this.#batches++;
    this.#rows += request.rows;
    this.#busyMs += ms;
    this.o.link.send(from, resultMessage(request, blocks, ms)).catch(() => undefined); // the requester left
    this.o.changed();
  }
}
