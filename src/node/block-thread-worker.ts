import { parentPort } from "node:worker_threads";
import { createBlockWorker, type FromWorker } from "../core/distributed/index.ts";

/**
 * One row block of a distributed solve in a worker thread (block-host.ts starts one per held block), so
 * its SpMVs and triangular solves never hold the volunteer's main thread, which keeps heartbeats and the
 * mesh going. The core's BlockWorker does everything, as in a tab's Web Worker (workers/distributed/):
 * it validates what it gets with the distributed zod schemas and answers bad input with an `error`
 * message. Calls are answered one by one in the order they came, so replies need no ids.
 */
export type BlockRequest =
  { readonly op: "init"; readonly data: unknown } | { readonly op: "step"; readonly message: unknown };

export interface BlockReply {
  readonly reply: FromWorker | null;
}

const worker = createBlockWorker();

parentPort?.on("message", (request: BlockRequest) => {
  const reply = request.op === "init" ? worker.init(request.data) : worker.step(request.message);
  parentPort?.postMessage({ reply } satisfies BlockReply);
});
