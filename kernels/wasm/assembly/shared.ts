// Entry of kernels-shared.wasm: imported shared memory, helper threads (needs SharedArrayBuffer).
export * from "./common";
export { workerLoop } from "./threads";
