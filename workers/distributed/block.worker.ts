/// <reference lib="webworker" />
/**
 * One row block of a distributed solve in a Web Worker, so its SpMVs and triangular solves never hold
 * the volunteer tab's main thread. The core's BlockWorker does everything (it validates what it gets with
 * the distributed zod schemas); this file only exposes it over Comlink.
 */
// First: no CSP-violating eval probe by zod (see the module).
import "../../src/core/base/zod-jitless.ts";
import * as Comlink from "comlink";
import { createBlockWorker } from "../../src/core/distributed/index.ts";
import type { BlockWorkerApi } from "./api.ts";

const worker = createBlockWorker();
const api: BlockWorkerApi = {
  init: (blockData) => worker.init(blockData),
  step: (message) => worker.step(message),
};
Comlink.expose(api);
