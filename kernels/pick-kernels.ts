import type { Kernels } from "../src/core/solver/kernels.ts";
import { createJsKernels } from "../src/core/solver/js-kernels.ts";
import { createWasmKernels } from "./wasm/index.ts";

/**
 * Below this many nonzeros one wasm thread beats two on these machines: an iteration is tens of microseconds
 * and the helper threads' synchronisation costs more (measured in bench:solver and the CLI).
 */
export const MULTI_THREAD_MIN_NNZ = 200_000;

/**
 * Chooses the CPU kernels for a solve: "auto" = wasm (threads by size) when it loads, else js. An explicit
 * "wasm" that cannot start is an error; the notes say what was chosen and why.
 */
export async function pickCpuKernels(
  choice: "auto" | "js" | "wasm",
  threads: number | undefined,
  nnz: number,
): Promise<{ kernels: Kernels; notes: string[] }> {
  if (choice === "js") return { kernels: createJsKernels(), notes: ["backend: js (f64 reference)"] };
  const cores = Math.max(1, Math.min(self.navigator.hardwareConcurrency || 1, 8));
  const wanted = threads ?? (nnz >= MULTI_THREAD_MIN_NNZ ? cores : 1);
  try {
    const kernels = await createWasmKernels({ threads: wanted });
    return {
      kernels,
      notes: [`backend: wasm, ${kernels.threads} thread${kernels.threads === 1 ? "" : "s"}`],
    };
  } catch (e) {
    if (choice === "wasm") throw e;
    return {
      kernels: createJsKernels(),
      notes: [`backend: js (wasm unavailable: ${e instanceof Error ? e.message : String(e)})`],
    };
  }
}
