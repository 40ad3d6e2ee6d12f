import type { FromWorker } from "../../src/core/distributed/index.ts";

/** What the block worker exposes over Comlink: one BlockWorker (one row block) per Web Worker. */
export interface BlockWorkerApi {
  init(blockData: unknown): FromWorker | null;
  step(message: unknown): FromWorker;
}
