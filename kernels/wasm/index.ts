/**
 * The wasm backend of the solver kernels (AssemblyScript, f64, SIMD, optional helper threads on shared
 * memory). `createWasmKernels({ threads })` picks the environment's loader (Node: fs + worker_threads;
 * browser: Vite asset URL + Web Workers) and returns a Kernels implementation.
 */
import { createWasmKernelsOn } from "./core.ts";
import type { WasmKernelsOptions } from "./core.ts";
import type { WasmKernels } from "./kernels.ts";
import type { WasmPlatform } from "./platform.ts";

export type { WasmKernelsOptions } from "./core.ts";
export type { WasmKernels } from "./kernels.ts";
export { WasmKernelError } from "./errors.ts";

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof p?.versions?.node === "string";
}

let platform: Promise<WasmPlatform> | null = null;

function loadPlatform(): Promise<WasmPlatform> {
  platform ??= isNode()
    ? import("./platform-node.ts").then((m) => m.loadNodePlatform())
    : import("./platform-browser.ts").then((m) => m.loadBrowserPlatform());
  return platform;
}

export async function createWasmKernels(opts: WasmKernelsOptions = {}): Promise<WasmKernels> {
  return createWasmKernelsOn(await loadPlatform(), opts);
}
