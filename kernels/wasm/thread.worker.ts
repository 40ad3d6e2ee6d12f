/// <reference lib="webworker" />
// A helper thread of the wasm backend in the browser (a Web Worker started by platform-browser.ts).
// Mirrors thread-node.mjs (Node's): keep them in sync.
import type { HelperInit } from "./platform.ts";

interface HelperExports {
  workerLoop(ctrl: number, gen: number): void;
}

self.onmessage = async (ev: MessageEvent<HelperInit>) => {
  const { module, memory, ctrl, gen, errOffset, stateOffset } = ev.data;
  let exports: HelperExports;
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    exports = instance.exports as unknown as HelperExports;
  } catch (e) {
    self.postMessage({ type: "error", message: `instantiate failed: ${String(e)}` });
    return;
  }
  self.postMessage({ type: "ready" });
  try {
    exports.workerLoop(ctrl, gen); // returns once the caller sets EXIT (dispose)
  } catch (e) {
    const i32 = new Int32Array(memory.buffer);
    Atomics.store(i32, (ctrl + errOffset) >> 2, 1);
    Atomics.sub(i32, (ctrl + stateOffset) >> 2, 1); // leave the task we had joined
    Atomics.notify(i32, (ctrl + stateOffset) >> 2);
    self.postMessage({ type: "error", message: String(e) });
  }
  self.close();
};
