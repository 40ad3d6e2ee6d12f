import { solve } from "../src/core/solver/solve.ts";
import { nnzOf, type CsrMatrix } from "../src/core/sparse/csr.ts";
import type { SolveOptions, SolveResult } from "../src/core/solver/types.ts";
import { pickKernels } from "./pick-kernels.ts";

export type ThreadSolveOutcome =
  | { readonly ok: true; readonly result: SolveResult }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * One solve on the CPU kernels pickKernels chooses for this matrix (wasm, helper threads for a big one),
 * as a Node worker thread runs it for the API's sessions and for a Node volunteer's units. The solve is
 * synchronous in its thread, so a stop arrives through a shared flag (1 = stop) the iteration monitor reads
 * every iteration. A failure comes back as its code and message (the thread must answer, never throw).
 */
export async function solveWithPickedKernels(
  a: CsrMatrix,
  b: Float64Array,
  options: Omit<SolveOptions, "signal">,
  stop: Int32Array,
  machine: { readonly threads: number | undefined; readonly cores: number },
): Promise<ThreadSolveOutcome> {
  const picked = await pickKernels({ choice: "auto", nnz: nnzOf(a), ...machine });
  const signal = {
    get aborted() {
      return Atomics.load(stop, 0) === 1;
    },
  } as AbortSignal;
  try {
    return { ok: true, result: solve(a, b, { ...options, signal }, picked.kernels) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      code: typeof code === "string" ? code : "solver_failed",
      message: error instanceof Error ? error.message : String(error),
    };
  } finally {
    picked.kernels.dispose();
  }
}
