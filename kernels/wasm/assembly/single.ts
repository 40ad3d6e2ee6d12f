// Entry of kernels-single.wasm: imported non-shared memory, calling thread only. For pages that are not
// crossOriginIsolated, where shared memory cannot be created.
export * from "./common";
