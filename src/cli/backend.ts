import { availableParallelism } from "node:os";
import type { Kernels } from "../core/solver/kernels.ts";
import { createJsKernels } from "../core/solver/js-kernels.ts";
import { createWasmKernels } from "../../kernels/wasm/index.ts";
import { CliError } from "./cli-error.ts";

export type CliBackend = "js" | "wasm";

export interface LoadedKernels {
  kernels: Kernels;
  /** Lines for stderr: which backend was chosen and why. */
  notes: string[];
}

/**
 * Below this many nonzeros one wasm thread beats several: an iteration is a few dozen microseconds of work
 * and the helper threads' synchronisation costs more. Measured with CG on 2 cores (other jobs running):
 * bcsstk13 (84k nnz) 150 ms on 1 thread vs 200–1400 ms on 2; poisson2d-300 (449k nnz) 351 vs 239 ms;
 * poisson2d-1000 (5M nnz) 20.3 vs 10.0 s.
 */
export const MULTI_THREAD_MIN_NNZ = 200_000;

/** Threads for wasm when --threads is not given: all cores for big matrices, one for small ones. */
export function defaultWasmThreads(nnz: number): number {
  return nnz >= MULTI_THREAD_MIN_NNZ ? availableParallelism() : 1;
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Chooses the kernels: `--backend js|wasm` is obeyed (an unavailable wasm is an error), no choice means
 * wasm if it loads, else js. Threads default by matrix size for wasm (see defaultWasmThreads); js is
 * single-threaded.
 */
export async function loadKernels(
  choice: CliBackend | undefined,
  threads: number | undefined,
  nnz: number,
): Promise<LoadedKernels> {
  const notes: string[] = [];
  if (choice !== "js") {
    const wasmThreads = threads ?? defaultWasmThreads(nnz);
    try {
      const kernels = await createWasmKernels({ threads: wasmThreads });
      const count = `${kernels.threads} thread${kernels.threads === 1 ? "" : "s"}`;
      const why = threads === undefined ? ` (by matrix size; --threads N to choose)` : "";
      notes.push(`backend: wasm, ${count}${why}${choice === undefined ? "; --backend js to compare" : ""}`);
      return { kernels, notes };
    } catch (e) {
      if (choice === "wasm") {
        throw new CliError("backend_unavailable", `the wasm backend could not start: ${reasonOf(e)}`);
      }
      notes.push(`backend: js (wasm unavailable: ${reasonOf(e)})`);
    }
  }
  if (threads !== undefined && threads > 1) {
    notes.push(`the js backend is single-threaded; --threads ${threads} is ignored`);
  }
  return { kernels: createJsKernels(), notes };
}
