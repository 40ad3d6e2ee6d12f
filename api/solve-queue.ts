import type { LiveUpdateEvent } from "../src/core/solver/updates/index.ts";
import type { ThreadSolveRequest, ThreadUpdate } from "./solve-messages.ts";
import type { RunningSolve, SolverPool, ThreadOutcome } from "./solver-pool.ts";

interface Waiting {
  readonly request: Omit<ThreadSolveRequest, "stop">;
  readonly onUpdate: (u: ThreadUpdate) => void;
  readonly onLive: (event: LiveUpdateEvent) => void;
  readonly settle: (outcome: ThreadOutcome) => void;
  readonly started: (solve: RunningSolve) => void;
}

/**
 * Solves waiting for a solver thread: a burst of requests (200 light streams at once) queues here, in
 * arrival order, instead of being refused while every thread is busy; only past `maxQueued` waiting is a
 * request refused (503). A queued solve that is stopped (its client left, the server drains) ends at once
 * as cancelled, without ever taking a thread.
 */
export class SolveQueue {
  private readonly waiting: Waiting[] = [];

  constructor(
    private readonly pool: SolverPool,
    private readonly maxQueued: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  get running(): number {
    return this.pool.running;
  }

  /** No thread free and no room left in the queue. */
  get full(): boolean {
    return this.pool.full && this.waiting.length >= this.maxQueued;
  }

  run(
    request: Omit<ThreadSolveRequest, "stop">,
    onUpdate: (u: ThreadUpdate) => void,
    onLive: (event: LiveUpdateEvent) => void,
  ): RunningSolve {
    if (!this.pool.full) return this.launch(this.pool.run(request, onUpdate, onLive));
    let inner: RunningSolve | null = null;
    let entry: Waiting | null = null;
    const done = new Promise<ThreadOutcome>((settle) => {
      entry = { request, onUpdate, onLive, settle, started: (solve) => (inner = solve) };
      this.waiting.push(entry);
    });
    return {
      done,
      stop: () => {
        if (inner !== null) return inner.stop();
        const at = this.waiting.indexOf(entry!);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        entry!.settle({ kind: "done", ok: false, code: "cancelled", message: "stopped before it started" });
      },
    };
  }

  /** Starts the next waiting solves while threads are free (called as each solve ends). */
  private next(): void {
    while (!this.pool.full && this.waiting.length > 0) {
      const w = this.waiting.shift()!;
      const solve = this.launch(this.pool.run(w.request, w.onUpdate, w.onLive));
      w.started(solve);
      void solve.done.then(w.settle);
    }
  }

  private launch(solve: RunningSolve): RunningSolve {
    void solve.done.then(() => this.next());
    return solve;
  }
}
