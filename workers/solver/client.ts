import * as Comlink from "comlink";
import type { SolveJobEvent, SolveJobOptions, SolveJobOutcome, SolveSource, SolverWorkerApi } from "./api.ts";
import {
  createUpdateMailbox,
  type LiveUpdateEvent,
  type SystemUpdates,
} from "../../src/core/solver/updates/index.ts";
import type { IterationUpdate } from "../../src/core/solver/types.ts";
import { abortable, isWorkerAbortError } from "../abortable.ts";
import { postWhileRunning, type PostOutcome } from "./client-post.ts";

export type { PostOutcome } from "./client-post.ts";

/** What a solve call takes besides the job: its signal and its callbacks. */
export interface SolveCallOptions {
  /** Aborting stops the solve (see SolverClient). */
  readonly signal?: AbortSignal;
  readonly onUpdate: (update: IterationUpdate) => void;
  readonly onEvent?: (event: SolveJobEvent) => void;
}

/** A running solve: its outcome, and a way to change A and b while it runs. */
export interface SolveHandle {
  /** Rejects with a WorkerAbortError (code "cancelled") when an abort had to terminate the worker. */
  readonly outcome: Promise<SolveJobOutcome>;
  /** Posts 0-based updates (named `seq`, from nextSeq) to the running solve; see PostOutcome. */
  post(updates: SystemUpdates, seq: number): Promise<PostOutcome>;
}

/** How long an aborted solve may take to notice the shared flag before the worker is killed. */
const CANCEL_GRACE_MS = 500;

type WorkerCall = (
  api: Comlink.Remote<SolverWorkerApi>,
  flag: Int32Array | null,
  mailbox: SharedArrayBuffer | null,
  onEvent: (e: SolveJobEvent) => void,
) => Promise<SolveJobOutcome>;

/** What the client needs of the solver worker: a Comlink endpoint it can terminate. */
export type SolverWorkerPort = Comlink.Endpoint & { terminate(): void };

function startSolverWorker(): SolverWorkerPort {
  return new Worker(new URL("./solver.worker.ts", import.meta.url), {
    type: "module",
    name: "open-swarm-solver",
  });
}

/** A solve's rejection as the failed outcome it stands for (a terminated worker: code "cancelled"). */
export function outcomeOfRejection(error: unknown): SolveJobOutcome {
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, error: { code: isWorkerAbortError(error) ? error.code : "internal_error", message } };
}

/**
 * Runs solves in a dedicated Web Worker (one solve at a time per client). Aborting a call's signal first
 * raises a shared-memory flag the iteration loop reads (so the best x so far comes back); if the worker has
 * not answered within CANCEL_GRACE_MS (or shared memory is unavailable) it is terminated and replaced, and
 * the outcome rejects (workers/abortable.ts). Updates reach a running solve the same way, through a shared
 * mailbox (src/core/solver/updates/mailbox.ts).
 */
export class SolverClient {
  private worker: SolverWorkerPort | null = null;
  private api: Comlink.Remote<SolverWorkerApi> | null = null;
  private seq = 0;

  /** `createWorker` starts the solver worker (tests pass a fake). */
  constructor(private readonly createWorker: () => SolverWorkerPort = startSolverWorker) {}

  private ensureWorker(): { worker: SolverWorkerPort; api: Comlink.Remote<SolverWorkerApi> } {
    if (this.worker === null || this.api === null) {
      this.worker = this.createWorker();
      this.api = Comlink.wrap<SolverWorkerApi>(this.worker);
    }
    return { worker: this.worker, api: this.api };
  }

  /** Ends `worker` if it is still this client's (a later solve may have replaced it). */
  private terminate(worker: SolverWorkerPort | null = this.worker): void {
    if (worker === null || worker !== this.worker) return;
    this.api?.[Comlink.releaseProxy]();
    worker.terminate();
    this.worker = null;
    this.api = null;
  }

  /** Sequence numbers name update batches in events (shared by live posts and warm re-solves). */
  nextSeq(): number {
    return ++this.seq;
  }

  solve(source: SolveSource, options: SolveJobOptions, call: SolveCallOptions): SolveHandle {
    const onUpdate = Comlink.proxy(call.onUpdate);
    return this.start(
      (api, flag, mailbox, events) =>
        api.solve(source, options, onUpdate, flag, mailbox, Comlink.proxy(events)),
      call,
    );
  }

  /**
   * Applies `updates` (0-based) to the system the worker kept from the last solve (options.keepSystem)
   * and re-solves warm from its x. `seq` (from nextSeq) names the batch in the events.
   */
  resolveWarm(
    updates: SystemUpdates,
    seq: number,
    options: SolveJobOptions,
    call: SolveCallOptions,
  ): SolveHandle {
    const onUpdate = Comlink.proxy(call.onUpdate);
    return this.start(
      (api, flag, mailbox, events) =>
        api.resolveWarm(updates, seq, options, onUpdate, flag, mailbox, Comlink.proxy(events)),
      call,
    );
  }

  private start(send: WorkerCall, call: SolveCallOptions): SolveHandle {
    const shared = globalThis.crossOriginIsolated === true;
    const flag = shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
    const mailbox = shared ? createUpdateMailbox() : null;
    const waiters = new Map<number, (e: LiveUpdateEvent) => void>();
    const events = (e: SolveJobEvent): void => {
      if (e.type === "update_applied" || e.type === "update_rejected") waiters.get(e.seq)?.(e);
      call.onEvent?.(e);
    };
    let worker: SolverWorkerPort | null = null;
    const outcome = abortable(
      call.signal,
      () => {
        const started = this.ensureWorker();
        worker = started.worker;
        return send(started.api, flag, mailbox, events);
      },
      {
        graceMs: flag ? CANCEL_GRACE_MS : 0,
        ...(flag ? { stop: () => Atomics.store(flag, 0, 1) } : {}),
        terminate: () => this.terminate(worker),
        message: "cancelled; the solver worker was stopped",
      },
    );
    return {
      outcome,
      post: (updates, seq) => postWhileRunning(mailbox, seq, updates, waiters, outcome),
    };
  }

  dispose(): void {
    this.terminate();
  }
}
