// A helper thread of the wasm backend under Node (worker_threads). Plain JS so it runs without a TS
// loader (tsx, vitest and plain node alike). Mirrors thread.worker.ts (the browser's): keep them in sync.
/* global WebAssembly */
import { parentPort, workerData } from "node:worker_threads";

const { module, memory, ctrl, index, gen, errOffset, doneOffset } = workerData;
let instance;
try {
  instance = new WebAssembly.Instance(module, { env: { memory } });
} catch (e) {
  parentPort.postMessage({ type: "error", message: `instantiate failed: ${e}` });
  process.exit(1);
}
parentPort.postMessage({ type: "ready" });
try {
  // Returns when the caller posts the exit op.
  instance.exports.workerLoop(ctrl, index, gen);
} catch (e) {
  // A trap: flag it and count ourselves done so the caller stops waiting and reports worker_failed.
  const i32 = new Int32Array(memory.buffer);
  Atomics.store(i32, (ctrl + errOffset) >> 2, 1);
  Atomics.add(i32, (ctrl + doneOffset) >> 2, 1);
  Atomics.notify(i32, (ctrl + doneOffset) >> 2);
  parentPort.postMessage({ type: "error", message: String(e) });
}
