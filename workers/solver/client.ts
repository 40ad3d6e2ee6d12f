import * as Comlink from "comlink";
import type { SolveJobEvent, SolveJobOptions, SolveJobOutcome, SolveSource, SolverWorkerApi } from "./api.ts";
import {
  createUpdateMailbox,
  type LiveUpdateEvent,
  type SystemUpdates,
} from "../../src/core/solver/updates/index.ts";
import type { IterationUpdate } from "../../src/core/solver/types.ts";
import { postWhileRunning, type PostOutcome } from "./client-post.ts";

export type { PostOutcome } from "./client-post.ts";

/** A running solve: its outcome, a way to stop it, and a way to change A and b while it runs. */
export interface SolveHandle {
  readonly outcome: Promise<SolveJobOutcome>;
  cancel(): void;
  /** Posts 0-based updates (named `seq`, from nextSeq) to the running solve; see PostOutcome. */
  post(updates: SystemUpdates, seq: number): Promise<PostOutcome>;
}

/** How long a cancelled solve may take to notice the shared flag before the worker is killed. */
const CANCEL_GRACE_MS = 500;

type WorkerCall = (
  api: Comlink.Remote<SolverWorkerApi>,
  flag: Int32Array | null,
  mailbox: SharedArrayBuffer | null,
  onEvent: (e: SolveJobEvent) => void,
) => Promise<SolveJobOutcome>;

/**
 * Runs solves in a dedicated Web Worker (one solve at a time per client). Cancellation first raises a
 * shared-memory flag the iteration loop reads (so the best x so far comes back); if the worker has not
 * answered within CANCEL_GRACE_MS (or shared memory is unavailable) it is terminated and replaced.
 * Updates reach a running solve the same way, through a shared mailbox (core/solver/incremental-mailbox.ts).
 */
export class SolverClient {
  private worker: Worker | null = null;
  private api: Comlink.Remote<SolverWorkerApi> | null = null;
  private seq = 0;

  private ensureWorker(): Comlink.Remote<SolverWorkerApi> {
    if (!this.api) {
      this.worker = new Worker(new URL("./solver.worker.ts", import.meta.url), {
        type: "module",
        name: "open-swarm-solver",
      });
      this.api = Comlink.wrap<SolverWorkerApi>(this.worker);
    }
    return this.api;
  }

  private terminate(): void {
    this.api?.[Comlink.releaseProxy]();
    this.worker?.terminate();
    this.worker = null;
    this.api = null;
  }

  /** Sequence numbers name update batches in events (shared by live posts and warm re-solves). */
  nextSeq(): number {
    return ++this.seq;
  }

  solve(
    source: SolveSource,
    options: SolveJobOptions,
    onUpdate: (u: IterationUpdate) => void,
    onEvent?: (e: SolveJobEvent) => void,
  ): SolveHandle {
    return this.start(
      (api, flag, mailbox, events) =>
        api.solve(source, options, Comlink.proxy(onUpdate), flag, mailbox, Comlink.proxy(events)),
      onEvent,
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
    onUpdate: (u: IterationUpdate) => void,
    onEvent?: (e: SolveJobEvent) => void,
  ): SolveHandle {
    return this.start(
      (api, flag, mailbox, events) =>
        api.resolveWarm(updates, seq, options, Comlink.proxy(onUpdate), flag, mailbox, Comlink.proxy(events)),
      onEvent,
    );
  }

  private start(call: WorkerCall, onEvent: ((e: SolveJobEvent) => void) | undefined): SolveHandle {
    const api = this.ensureWorker();
    const shared = globalThis.crossOriginIsolated;
    const flag = shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
    const mailbox = shared ? createUpdateMailbox() : null;
    const waiters = new Map<number, (e: LiveUpdateEvent) => void>();
    const events = (e: SolveJobEvent): void => {
      if (e.type === "update_applied" || e.type === "update_rejected") waiters.get(e.seq)?.(e);
      onEvent?.(e);
    };
    let settleCancelled: ((o: SolveJobOutcome) => void) | null = null;
    const cancelled = new Promise<SolveJobOutcome>((resolve) => (settleCancelled = resolve));
    const outcome = Promise.race([call(api, flag, mailbox, events), cancelled]);
    return {
      outcome,
      post: (updates, seq) => postWhileRunning(mailbox, seq, updates, waiters, outcome),
      cancel: () => {
        if (flag) Atomics.store(flag, 0, 1);
        const timer = setTimeout(
          () => {
            this.terminate();
            settleCancelled?.({
              ok: false,
              error: { code: "cancelled", message: "cancelled; the solver worker was stopped" },
            });
          },
          flag ? CANCEL_GRACE_MS : 0,
        );
        void outcome.finally(() => clearTimeout(timer));
      },
    };
  }

  dispose(): void {
    this.terminate();
  }
}
