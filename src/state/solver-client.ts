import * as Comlink from "comlink";
import type {
  SolveJobOptions,
  SolveJobOutcome,
  SolveSource,
  SolverWorkerApi,
} from "../../workers/solver/api.ts";
import type { IterationUpdate } from "../core/solver/types.ts";

/** A running solve: its outcome, and a way to stop it. */
export interface SolveHandle {
  readonly outcome: Promise<SolveJobOutcome>;
  cancel(): void;
}

/** How long a cancelled solve may take to notice the shared flag before the worker is killed. */
const CANCEL_GRACE_MS = 500;

/**
 * Runs solves in a dedicated Web Worker (one solve at a time per client). Cancellation first raises a
 * shared-memory flag the iteration loop reads (so the best x so far comes back); if the worker has not
 * answered within CANCEL_GRACE_MS (or shared memory is unavailable) it is terminated and replaced.
 */
export class SolverClient {
  private worker: Worker | null = null;
  private api: Comlink.Remote<SolverWorkerApi> | null = null;

  private ensureWorker(): Comlink.Remote<SolverWorkerApi> {
    if (!this.api) {
      this.worker = new Worker(new URL("../../workers/solver/solver.worker.ts", import.meta.url), {
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

  solve(source: SolveSource, options: SolveJobOptions, onUpdate: (u: IterationUpdate) => void): SolveHandle {
    const api = this.ensureWorker();
    const flag = globalThis.crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : null;
    let settleCancelled: ((o: SolveJobOutcome) => void) | null = null;
    const cancelled = new Promise<SolveJobOutcome>((resolve) => (settleCancelled = resolve));
    const outcome = Promise.race([api.solve(source, options, Comlink.proxy(onUpdate), flag), cancelled]);
    return {
      outcome,
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
