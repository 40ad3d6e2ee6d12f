import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import type { MethodName } from "../../src/core/solver/types.ts";
import type { DeviceOptions } from "./device.ts";
import { createWebGpuSolver } from "./solver.ts";

export interface WebGpuBenchmarkCase {
  name: string;
  matrix: CsrMatrix;
  /** Defaults to A·1 (so the exact answer is all ones). */
  b?: Float64Array;
  method?: MethodName;
}

export interface WebGpuBenchmarkRow {
  name: string;
  method: string;
  n: number;
  nnz: number;
  converged: boolean;
  relResidual: number;
  iterations: number;
  encodedIterations: number;
  outerIterations: number;
  dispatches: number;
  readbacks: number;
  dispatchesPerIteration: number;
  dispatchesPerUsefulIteration: number;
  readbacksPerIteration: number;
  ms: number;
  msPerIteration: number;
  adapterArchitecture: string;
  /** False on a software adapter (SwiftShader): then only the counts mean anything, not the times. */
  timingMeaningful: boolean;
}

/**
 * Runs each case once on a fresh solver and reports dispatch/readback counts per iteration and times.
 * Runs in a browser (window or worker): `webgpuBenchmark(navigator.gpu, cases)`.
 */
export async function webgpuBenchmark(
  gpu: GPU | undefined,
  cases: readonly WebGpuBenchmarkCase[],
  options: { tol?: number; maxIter?: number; checkEvery?: number; device?: DeviceOptions } = {},
): Promise<WebGpuBenchmarkRow[]> {
  const solver = await createWebGpuSolver(gpu, options.device);
  const rows: WebGpuBenchmarkRow[] = [];
  try {
    for (const c of cases) {
      const b = c.b ?? timesOnes(c.matrix);
      const r = await solver.solve(c.matrix, b, {
        method: c.method ?? "hybrid",
        tol: options.tol ?? 1e-8,
        maxIter: options.maxIter ?? 20_000,
        ...(options.checkEvery === undefined ? {} : { checkEvery: options.checkEvery }),
      });
      rows.push({
        name: c.name,
        method: r.methodPath.join(" > "),
        n: c.matrix.rows,
        nnz: c.matrix.rowPtr[c.matrix.rows] ?? 0,
        converged: r.converged,
        relResidual: r.relResidual,
        iterations: r.iterations,
        encodedIterations: r.encodedIterations,
        outerIterations: r.outerIterations,
        dispatches: r.dispatches,
        readbacks: r.readbacks,
        dispatchesPerIteration: r.dispatchesPerIteration,
        dispatchesPerUsefulIteration: r.dispatchesPerUsefulIteration,
        readbacksPerIteration: r.readbacksPerIteration,
        ms: r.ms,
        msPerIteration: r.iterations > 0 ? r.ms / r.iterations : 0,
        adapterArchitecture: solver.adapter.architecture,
        timingMeaningful: !/swiftshader|llvmpipe|software/i.test(
          `${solver.adapter.architecture} ${solver.adapter.description}`,
        ),
      });
    }
  } finally {
    solver.destroy();
  }
  return rows;
}

function timesOnes(a: CsrMatrix): Float64Array {
  const b = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) s += a.values[k]!;
    b[i] = s;
  }
  return b;
}
