import { Worker } from "node:worker_threads";
import type { LiveUpdateEvent } from "../src/core/solver/updates/index.ts";
import type { ThreadLiveEvent, ThreadReply, ThreadSolveRequest, ThreadUpdate } from "./solve-messages.ts";

/** After a stop, how long a thread may take to notice before it is terminated (and not reused). */
const STOP_GRACE_MS = 1_000;

export type ThreadOutcome = Exclude<ThreadReply, ThreadUpdate | ThreadLiveEvent>;

export interface RunningSolve {
  readonly done: Promise<ThreadOutcome>;
  /** Raises the thread's stop flag; the solve ends with reason "cancelled" at its next iteration. */
  stop(): void;
}

/**
 * The API's solver threads: at most `maxThreads` solves at once (one per thread), idle threads kept for the
 * next session (a fresh thread spends a few hundred ms loading the solver, which would delay the first
 * update), a thread that ignores a stop or crashes is terminated and forgotten.
 */
export class SolverPool {
  private readonly idle: Worker[] = [];
  private readonly active = new Set<Worker>();
  private busy = 0;
  private closed = false;

  constructor(
    private readonly maxThreads: number,
    private readonly maxIdle: number,
  ) {}

  get running(): number {
    return this.busy;
  }

  get full(): boolean {
    return this.busy >= this.maxThreads;
  }

  /** Starts a thread ahead of the first request, so the first session does not pay for loading it. */
  warm(): void {
    if (this.idle.length === 0 && !this.closed) this.idle.push(this.spawn());
  }

  run(
    request: Omit<ThreadSolveRequest, "stop">,
    onUpdate: (u: ThreadUpdate) => void,
    onLive: (event: LiveUpdateEvent) => void = () => undefined,
  ): RunningSolve {
    if (this.full || this.closed) throw new Error("solver pool is full");
    const thread = this.idle.pop() ?? this.spawn();
    this.busy++;
    const stopFlag = new Int32Array(new SharedArrayBuffer(4));
    let grace: ReturnType<typeof setTimeout> | null = null;
    let settled = false;
    const stopHolder: { stop: () => void } = { stop: () => undefined };
    this.active.add(thread);
    const done = new Promise<ThreadOutcome>((resolve) => {
      const finish = (outcome: ThreadOutcome, reusable: boolean): void => {
        if (settled) return;
        settled = true;
        thread.off("message", onMessage);
        thread.off("error", onError);
        thread.off("exit", onExit);
        this.active.delete(thread);
        if (grace !== null) clearTimeout(grace);
        this.busy--;
        if (reusable && !this.closed && this.idle.length < this.maxIdle) this.idle.push(thread);
        else void thread.terminate();
        resolve(outcome);
      };
      const onMessage = (reply: ThreadReply): void => {
        if (reply.kind === "update") onUpdate(reply);
        else if (reply.kind === "live") onLive(reply.event);
        else finish(reply, true);
      };
      const onError = (error: Error): void =>
        finish({ kind: "done", ok: false, code: "solver_crashed", message: error.message }, false);
      const onExit = (): void =>
        finish(
          { kind: "done", ok: false, code: "solver_crashed", message: "the solver thread exited" },
          false,
        );
      thread.on("message", onMessage);
      thread.on("error", onError);
      thread.on("exit", onExit);
      const stop = (): void => {
        if (settled || grace !== null) return;
        Atomics.store(stopFlag, 0, 1);
        grace = setTimeout(
          () =>
            finish({ kind: "done", ok: false, code: "cancelled", message: "the solve was stopped" }, false),
          STOP_GRACE_MS,
        );
      };
      stopHolder.stop = stop;
      thread.postMessage({ ...request, stop: stopFlag } satisfies ThreadSolveRequest);
    });
    return { done, stop: () => stopHolder.stop() };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.idle.splice(0), ...this.active].map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const worker = new Worker(new URL("./solve-thread.mjs", import.meta.url));
    worker.unref();
    // An idle thread that dies is simply not reused.
    worker.on("error", () => {
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return worker;
  }
}
