import type { Kernels } from "../src/core/solver/kernels.ts";
import { createJsKernels } from "../src/core/solver/js-kernels.ts";
import { createWasmKernels } from "./wasm/index.ts";

/**
 * Below this many nonzeros one wasm thread beats several: an iteration is a few dozen microseconds of work
 * and the helper threads' synchronisation costs more. Measured with CG on 2 cores (other jobs running):
 * bcsstk13 (84k nnz) 150 ms on 1 thread vs 200–1400 ms on 2; poisson2d-300 (449k nnz) 351 vs 239 ms;
 * poisson2d-1000 (5M nnz) 20.3 vs 10.0 s.
 */
export const MULTI_THREAD_MIN_NNZ = 200_000;

/** "auto": wasm when it loads, else js. "wasm": wasm or an error. "js": the f64 reference. */
export type CpuKernelChoice = "auto" | "js" | "wasm";

export interface KernelRequest {
  readonly choice: CpuKernelChoice;
  /** Threads asked for; undefined: by matrix size (see wasmThreadsFor). js is single-threaded. */
  readonly threads: number | undefined;
  readonly nnz: number;
  /** The cores this environment offers: each passes its own (Node's availableParallelism(), a tab's
   *  navigator.hardwareConcurrency). */
  readonly cores: number;
}

export interface PickedKernels {
  readonly kernels: Kernels;
  /** Lines for the user: which backend was chosen and why. */
  readonly notes: string[];
  /** Why wasm did not load when "auto" fell back to js; null otherwise. */
  readonly wasmUnavailable: string | null;
}

/** wasm threads when none are asked for: every core for a big matrix, one for a small one. */
export function wasmThreadsFor(nnz: number, cores: number): number {
  return nnz >= MULTI_THREAD_MIN_NNZ ? cores : 1;
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Chooses the CPU kernels for a solve. An explicit "wasm" that cannot start rethrows the wasm backend's
 * error (a WasmKernelError with its code): each caller maps it to its own errors at its boundary.
 */
export async function pickKernels(request: KernelRequest): Promise<PickedKernels> {
  const { choice, threads, nnz, cores } = request;
  if (choice === "js") {
    return { kernels: createJsKernels(), notes: ["backend: js (f64 reference)"], wasmUnavailable: null };
  }
  try {
    const kernels = await createWasmKernels({ threads: threads ?? wasmThreadsFor(nnz, cores) });
    const count = `${kernels.threads} thread${kernels.threads === 1 ? "" : "s"}`;
    return { kernels, notes: [`backend: wasm, ${count}`], wasmUnavailable: null };
  } catch (e) {
    if (choice === "wasm") throw e;
    const reason = reasonOf(e);
    return {
      kernels: createJsKernels(),
      notes: [`backend: js (wasm unavailable: ${reason})`],
      wasmUnavailable: reason,
    };
  }
}
