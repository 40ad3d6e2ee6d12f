import { Worker } from "node:worker_threads";
import type { UnitSolveOutcome, UnitSolver } from "../core/jobs/volunteer/index.ts";
import type { BackendName } from "../core/protocol/solver-names.ts";
import type { SolveReply, SolveRequest } from "./unit-solver-worker.ts";

/** After a stop, how long the thread may take to notice before it is terminated (and replaced). */
const STOP_GRACE_MS = 500;

/**
 * The Node volunteer's UnitSolver (what workers/solver/unit-client.ts is in a tab): solves run in one
 * worker thread (unit-solver-worker.ts), one at a time. A stop raises the shared flag; a thread that has
 * not answered STOP_GRACE_MS later is terminated and a fresh one started for the next unit.
 */
export function createNodeUnitSolver(threads?: number): UnitSolver {
  let worker: Worker | null = null;
  const spawn = (): Worker => {
    worker ??= new Worker(new URL("./unit-solver-thread.mjs", import.meta.url));
    worker.unref();
    return worker;
  };
  return {
    solve(a, b, options, { signal, onProgress }): Promise<UnitSolveOutcome> {
      const thread = spawn();
      const stop = new Int32Array(new SharedArrayBuffer(4));
      const request: SolveRequest = { a, b, options, stop, threads };
      return new Promise<UnitSolveOutcome>((resolve, reject) => {
        let grace: ReturnType<typeof setTimeout> | null = null;
        const finish = (): void => {
          thread.off("message", onMessage);
          thread.off("error", onError);
          signal.removeEventListener("abort", onAbort);
          if (grace !== null) clearTimeout(grace);
        };
        const onMessage = (reply: SolveReply): void => {
          if (reply.kind === "progress") return onProgress(reply);
          finish();
          resolve(
            reply.ok
              ? { ok: true, solved: { ...reply.solved, backend: reply.solved.backend as BackendName } }
              : { ok: false, code: reply.code, message: reply.message },
          );
        };
        const onError = (error: Error): void => {
          finish();
          if (worker === thread) worker = null;
          reject(error);
        };
        const onAbort = (): void => {
          Atomics.store(stop, 0, 1);
          grace = setTimeout(() => {
            finish();
            if (worker === thread) worker = null;
            void thread.terminate();
            reject(new DOMException("the solve was stopped", "AbortError"));
          }, STOP_GRACE_MS);
        };
        thread.on("message", onMessage);
        thread.on("error", onError);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort);
        thread.postMessage(request);
      });
    },
    dispose(): void {
      void worker?.terminate();
      worker = null;
    },
  };
}
