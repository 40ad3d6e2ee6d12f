import { poisson2d } from "../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../src/core/sparse/ops.ts";
import type * as DistributedModule from "../../src/core/distributed/index.ts";

/** benchmarkDistributed's figures, with the matrix and tolerance they were measured on. */
export type DistributedResult = DistributedModule.DistributedBenchmark & { matrix: string; tol: number };

/**
 * distributed_vs_single through src/core/distributed's own benchmark (benchmarkDistributed): single-process
 * PCG against the distributed PCG with K in-process block workers, same A, b = A·1 and tolerance, in this
 * run. Loaded lazily so the rest of the bench works when that folder is missing or broken.
 */
export async function runDistributed(
  grid: number,
  k: number,
  tol: number,
): Promise<{ ok: true; result: DistributedResult } | { ok: false; reason: string }> {
  let mod: typeof DistributedModule;
  try {
    mod = await import("../../src/core/distributed/index.ts");
  } catch (error) {
    return { ok: false, reason: `src/core/distributed could not be loaded: ${String(error)}` };
  }
  if (typeof mod.benchmarkDistributed !== "function") {
    return { ok: false, reason: "src/core/distributed has no benchmarkDistributed" };
  }
  try {
    const a = poisson2d(grid);
    const b = multiply(a, ones(a.cols));
    const r = await mod.benchmarkDistributed(a, b, k, { tol });
    return { ok: true, result: { matrix: `poisson2d-${grid}`, tol, ...r } };
  } catch (error) {
    return { ok: false, reason: `benchmarkDistributed failed: ${String(error)}` };
  }
}
