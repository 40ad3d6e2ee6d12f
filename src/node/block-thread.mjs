// The entry of a Node volunteer's block thread (worker_threads): like unit-solver-thread.mjs, tsx is
// registered first so the TypeScript core loads without a build step, then the thread's code is imported.
import { register } from "tsx/esm/api";

register();
await import("./block-thread-worker.ts");
