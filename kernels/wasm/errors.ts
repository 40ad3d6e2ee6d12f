import { CodedError } from "../../src/core/base/coded-error.ts";

/**
 * Failures of the wasm backend's machinery (as opposed to bad solver input, which throws SolverError).
 * Each has a code a caller can branch on, e.g. fall back to the js backend on `not_built` or `unsupported`.
 */
export type WasmKernelErrorCode =
  /** The .wasm files are missing: run `npm run build:wasm`. */
  | "not_built"
  /** The .wasm was built from a different control-block layout than this JS (stale build). */
  | "abi_mismatch"
  /** This runtime cannot compile the module (no WebAssembly SIMD or threads) or create its memory. */
  | "unsupported"
  | "invalid_option"
  /** A vector that is not a view of this instance's wasm memory (use `vector(n)`). */
  | "foreign_vector"
  /** Two arguments that must be distinct vectors are the same memory. */
  | "aliased_vectors"
  /** The wasm memory could not grow (4 GiB wasm32 limit, or what the runtime would reserve). */
  | "out_of_memory"
  /** Non-shared memory (page not crossOriginIsolated) cannot grow once vectors exist: growth would
   *  detach them. Register matrices before asking for vectors, or pass `memoryBytes`. */
  | "memory_fixed"
  | "disposed"
  /** A helper thread trapped or could not start; the instance is unusable. */
  | "worker_failed";

export class WasmKernelError extends CodedError<WasmKernelErrorCode> {
  override readonly name = "WasmKernelError";

  constructor(code: WasmKernelErrorCode, message: string) {
    super(code, `${code}: ${message}`);
  }
}
