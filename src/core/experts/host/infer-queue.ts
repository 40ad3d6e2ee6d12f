import type { ExpertLink } from "../link/expert-link.ts";
import type { XpInferErrorCode, XpInferRequest } from "../../protocol/experts.ts";
import type { ExpertHostFault } from "./host-fault.ts";
import { FairQueue } from "./fair-queue.ts";
import type { HostedModel } from "./hosted-models.ts";
import { resultBlocks, resultMessage, runErrorCode, type OutputBlock } from "./results.ts";
import { TimeLimitExceeded, withTimeLimit } from "./time-limit.ts";
import type { BusyCounts } from "./types.ts";
import { HostBatchLog, type HostBatchOutcome } from "./batch-log.ts";
import type { NowMs } from "../../base/clock.ts";

/**
 * The host's inference queue: infer-requests served one at a time (the runner serializes runs anyway),
 * round-robin over requesters (fair-queue.ts), so one requester flooding the host delays another by at most
 * the run in progress. Bounded per requester (`maxQueuedRequests`, what `hosting` announces) and in total
 * (requests and rows): beyond it a request is answered `busy` at once, counted, so the requester reroutes
 * instead of waiting. Each run has a time limit: past it the request is answered `timeout` and the host
 * drops the model (onRunTimeout: its worker is terminated). Every answer, result or infer-error, goes back
 * over the link from here.
 */
export interface InferQueueOptions {
  readonly link: ExpertLink;
  /** Queued requests of one requester. */
  readonly maxQueuedRequests: number;
  /** Queued requests of all requesters. */
  readonly maxQueuedTotal: number;
  readonly maxQueuedRows: number;
  readonly runTimeoutMs: number;
  readonly fault: ExpertHostFault | null;
  /** The model a request names, if loaded here (hosted-models.ts). */
  readonly modelOf: (sha256: string) => HostedModel | undefined;
  /** A run of `sha256` passed its time limit (the host drops the model). */
  readonly onRunTimeout: (sha256: string) => void;
  /** A count changed (the host emits its stats). */
  readonly changed: () => void;
  readonly nowMs: NowMs;
}

interface Queued {
  readonly from: string;
  readonly request: XpInferRequest;
}

export class InferQueue {
  readonly #queue = new FairQueue<Queued>();
  readonly #errors: Partial<Record<XpInferErrorCode, number>> = {};
  #busy = { requesterCap: 0, hostCap: 0 };
  #queuedRows = 0;
  #running = false;
  #closed = false;
  #batches = 0;
  #rows = 0;
  #busyMs = 0;
  /** The runs that ended here (batch-log.ts). */
  readonly log = new HostBatchLog();

  constructor(private readonly o: InferQueueOptions) {}

  get queuedRequests(): number {
    return this.#queue.size;
  }

  get queuedRows(): number {
    return this.#queuedRows;
  }

  counts(): {
    batchesServed: number;
    rowsServed: number;
    busyMs: number;
    errorsSent: Partial<Record<XpInferErrorCode, number>>;
    busyRefusals: BusyCounts;
  } {
    return {
      batchesServed: this.#batches,
      rowsServed: this.#rows,
      busyMs: this.#busyMs,
      errorsSent: { ...this.#errors },
      busyRefusals: { ...this.#busy },
    };
  }

  /** Queues a request for a hosted model with the right width, room permitting; else answers why not. */
  accept(from: string, request: XpInferRequest): void {
    const model = this.o.modelOf(request.model);
    if (!model) {
      return this.refuse(
        from,
        request.id,
        "model_missing",
        `model ${request.model.slice(0, 12)} is not hosted here`,
      );
    }
    if (request.cols !== model.info.inputCols) {
      return this.refuse(
        from,
        request.id,
        "bad_input",
        `the model takes ${model.info.inputCols} values per row, got ${request.cols}`,
      );
    }
    if (request.rows > model.maxRows) {
      return this.refuse(
        from,
        request.id,
        "bad_input",
        `this host runs at most ${model.maxRows} rows of this model per request (its memory budget), got ${request.rows}`,
      );
    }
    const mine = this.#queue.sizeOf(from);
    if (mine >= this.o.maxQueuedRequests) {
      this.#busy.requesterCap++;
      return this.refuse(from, request.id, "busy", `you have ${mine} requests queued here already`);
    }
    if (this.#queue.size >= this.o.maxQueuedTotal || this.#queuedRows + request.rows > this.o.maxQueuedRows) {
      this.#busy.hostCap++;
      return this.refuse(
        from,
        request.id,
        "busy",
        `queue full (${this.#queue.size} requests, ${this.#queuedRows} rows)`,
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
    for (const { from, request } of this.#queue.remove(() => true))
      this.refuse(from, request.id, code, message);
    this.#queuedRows = 0;
  }

  /** The requester left: its queued requests go unanswered. */
  dropFrom(peerId: string): void {
    for (const item of this.#queue.remove((q) => q.from === peerId)) this.#queuedRows -= item.request.rows;
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
    const model = this.o.modelOf(request.model);
    if (!model) return this.refuse(from, request.id, "model_missing", "the model was released before it ran");
    let blocks: OutputBlock[];
    let ms: number;
    const started = this.o.nowMs();
    const logRun = (outcome: HostBatchOutcome): void => {
      const at = this.o.nowMs();
      this.log.add({
        atMs: at,
        requesterId: from,
        requestId: request.id,
        model: request.model,
        modelLabel: model.label,
        rows: request.rows,
        ms: at - started,
        outcome,
      });
    };
    try {
      const out = await withTimeLimit(
        model.runner.run(request.model, request.data, request.rows),
        this.o.runTimeoutMs,
        `the run took longer than this host's limit of ${this.o.runTimeoutMs} ms: stopped, and the model dropped`,
      );
      blocks = resultBlocks(request, model.info, out);
      ms = out.ms;
    } catch (error) {
      logRun("failed");
      if (error instanceof TimeLimitExceeded) {
        this.o.onRunTimeout(request.model);
        return this.refuse(from, request.id, "timeout", error.message);
      }
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
    logRun("sent");
    this.o.link.send(from, resultMessage(request, blocks, ms)).catch(() => undefined); // the requester left
    this.o.changed();
  }
}
