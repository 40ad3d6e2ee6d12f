import * as Comlink from "comlink";
import type { BlockHost } from "../../src/core/distributed/index.ts";
import type { BlockWorkerApi } from "./api.ts";

/**
 * A BlockHost on a dedicated Web Worker (block.worker.ts), one per held block: the volunteer's main
 * thread only moves messages. Comlink answers calls in order, which is the order a block needs. If the
 * worker fails (its script did not load, it crashed) every pending and later call rejects, so the
 * volunteer gives the block back instead of heartbeating a block that no longer computes.
 */
export function webWorkerBlockHost(): BlockHost {
  const worker = new Worker(new URL("./block.worker.ts", import.meta.url), {
    type: "module",
    name: "open-swarm-block",
  });
  const api = Comlink.wrap<BlockWorkerApi>(worker);
  let fail: (error: Error) => void = () => undefined;
  const ended = new Promise<never>((_, reject) => {
    fail = reject;
  });
  ended.catch(() => undefined); // observed by the calls; unobserved if the block ends cleanly
  worker.addEventListener("error", (e) => fail(new Error(`block worker failed: ${e.message || "error"}`)));
  worker.addEventListener("messageerror", () => fail(new Error("block worker: a message could not be read")));
  return {
    init: (data) => Promise.race([api.init(data), ended]),
    step: (message) => Promise.race([api.step(message), ended]),
    close: () => {
      fail(new Error("block worker closed"));
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
