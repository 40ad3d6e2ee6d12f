import type { FromWorker } from "../protocol/distributed.ts";
import { createBlockWorker } from "./worker.ts";

/**
 * Where a volunteer's BlockWorker runs: on this thread, or off it (a Web Worker in the browser,
 * workers/distributed/; a worker thread in Node, src/node/block-host.ts). Asynchronous because off-thread
 * calls are, and calls are answered in the order made (a host never reorders one block's messages). Same
 * contract as BlockWorker: inputs are validated by the worker, bad ones answered with an `error` message,
 * never a throw.
 */
export interface BlockHost {
  /** Takes ownership of a block; resolves to an error message, or null when ready for `restart`. */
  init(blockData: unknown): Promise<FromWorker | null>;
  step(message: unknown): Promise<FromWorker>;
  /** The block is let go: frees the thread (pending calls may never settle). */
  close(): void;
}

export type BlockHostFactory = () => BlockHost;

/** A BlockWorker on the calling thread (tests, and runtimes with no worker to spare). */
export function inThreadBlockHost(): BlockHost {
  const worker = createBlockWorker();
  return {
    init: (data) => Promise.resolve(worker.init(data)),
    step: (message) => Promise.resolve(worker.step(message)),
    close: () => undefined,
  };
}
