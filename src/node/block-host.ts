import { Worker } from "node:worker_threads";
import type { BlockHost, FromWorker } from "../core/distributed/index.ts";
import type { BlockReply, BlockRequest } from "./block-thread-worker.ts";

/**
 * The Node volunteer's BlockHostFactory (a tab's is workers/distributed/client.ts): each held block gets
 * its own worker thread running the core's BlockWorker (block-thread-worker.ts), so the main thread only
 * moves messages. worker_threads deliver messages in order and the thread answers each call before the
 * next, so the pending calls form a FIFO queue. If the thread fails (an uncaught error, it exited) every
 * pending and later call rejects, and the volunteer gives the block back instead of heartbeating a block
 * that no longer computes.
 */
export function workerThreadBlockHost(): BlockHost {
  const thread = new Worker(new URL("./block-thread.mjs", import.meta.url), { name: "open-swarm-block" });
  // Held blocks never keep a leaving process alive (the swarm does, while it is open).
  thread.unref();
  const pending: { resolve: (reply: FromWorker | null) => void; reject: (error: Error) => void }[] = [];
  let failure: Error | null = null;
  const fail = (error: Error): void => {
    failure ??= error;
    for (const call of pending.splice(0)) call.reject(failure);
  };
  thread.on("message", (message: BlockReply) => pending.shift()?.resolve(message.reply));
  thread.on("error", (error) => fail(new Error(`block thread failed: ${error.message}`)));
  thread.on("messageerror", () => fail(new Error("block thread: a message could not be read")));
  thread.on("exit", (code) => fail(new Error(`block thread exited (code ${code})`)));
  const call = (request: BlockRequest): Promise<FromWorker | null> => {
    if (failure !== null) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      pending.push({ resolve, reject });
      thread.postMessage(request);
    });
  };
  return {
    init: (data) => call({ op: "init", data }),
    step: async (message) => {
      const reply = await call({ op: "step", message });
      // A BlockWorker answers every step with a message; null only answers an init.
      if (reply === null) throw new Error("block thread: a step got no reply");
      return reply;
    },
    close: () => {
      fail(new Error("block thread closed"));
      void thread.terminate();
    },
  };
}
