import { CodedError } from "../src/core/base/coded-error.ts";

/**
 * A call into a Web Worker made cancellable with an AbortSignal (the habit of Squoosh's worker bridges: the
 * signal comes with the call, and aborting it rejects the call's promise with an AbortError). A worker busy
 * in a synchronous loop never reads a "cancel" message, so an abort works in two steps:
 *
 * 1. `stop`, when the worker has a cooperative stop (the solver's shared-memory flag, solver/cancel-flag.ts),
 *    is raised and the worker's own answer awaited for `graceMs`: a solve stopped that way answers with its
 *    best x so far. Without one the call rejects at once, and the worker is given `graceMs` to finish.
 * 2. A worker still busy after `graceMs` is terminated (its client starts a fresh one for the next call),
 *    and the call rejects with a WorkerAbortError.
 */

/** The rejection of an aborted call: an AbortError by name, with the code the app's errors carry. */
export class WorkerAbortError extends CodedError<"cancelled"> {
  override readonly name = "AbortError";

  constructor(message: string) {
    super("cancelled", message);
  }
}

export function isWorkerAbortError(e: unknown): e is WorkerAbortError {
  return e instanceof WorkerAbortError;
}

export interface AbortPlan {
  /** How long the worker may take to answer after the abort before it is terminated. */
  readonly graceMs: number;
  /** Asks the running call to stop and answer (absent: the worker cannot be asked). */
  readonly stop?: () => void;
  /** Ends the worker that runs the call. */
  readonly terminate: () => void;
  /** The message of the WorkerAbortError an aborted call rejects with. */
  readonly message: string;
}

/** Sends the call unless `signal` is already aborted, and settles it as the file comment says. */
export function abortable<T>(
  signal: AbortSignal | undefined,
  send: () => Promise<T>,
  plan: AbortPlan,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(new WorkerAbortError("cancelled before it started"));
  const call = send();
  if (signal === undefined) return call;
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      const aborted = new WorkerAbortError(plan.message);
      const end = (): void => {
        if (answered) return;
        plan.terminate();
        reject(aborted);
      };
      if (plan.stop) plan.stop();
      else reject(aborted);
      if (plan.graceMs > 0) timer = setTimeout(end, plan.graceMs);
      else end();
    };
    const settle = (): void => {
      answered = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    call.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
