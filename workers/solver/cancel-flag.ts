/**
 * Cancellation that reaches a busy worker. A solve runs synchronously inside the worker, so a "cancel"
 * message would only be read after it finished. Instead the caller and the worker share one Int32 in a
 * SharedArrayBuffer (available when the page is crossOriginIsolated, which our server guarantees); the
 * iteration monitor reads `signal.aborted` every iteration. Without shared memory the client terminates the
 * worker instead (see client.ts and workers/abortable.ts).
 */
export function signalFromFlag(flag: Int32Array): AbortSignal {
  return {
    get aborted() {
      return Atomics.load(flag, 0) === 1;
    },
  } as AbortSignal;
}
