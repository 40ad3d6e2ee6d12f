// A helper thread of the wasm backend under Node (worker_threads). Plain JS so it runs without a TS
// loader (tsx, vitest and plain node alike). Mirrors thread.worker.ts (the browser's): keep them in sync.
import { parentPort, workerData } from "node:worker_threads";

const { module, memory, ctrl, gen, errOffset, stateOffset } = workerData;
let instance;
try {
  instance = new WebAssembly.Instance(module, { env: { memory } });
} catch (e) {
  parentPort.postMessage({ type: "error", message: `instantiate failed: ${e}` });
  process.exit(1);
}
parentPort.postMessage({ type: "ready" });
try {
  // Returns once the caller sets EXIT (dispose).
  instance.exports.workerLoop(ctrl, gen);
} catch (e) {
  // A trap (inside a task, the only place one can happen): flag it and leave the task, so the caller
  // stops waiting and reports worker_failed.
  const i32 = new Int32Array(memory.buffer);
  Atomics.store(i32, (ctrl + errOffset) >> 2, 1);
  Atomics.sub(i32, (ctrl + stateOffset) >> 2, 1); // leave the task we had joined
  Atomics.notify(i32, (ctrl + stateOffset) >> 2);
  parentPort.postMessage({ type: "error", message: String(e) });
}
