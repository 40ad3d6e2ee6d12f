/// <reference lib="webworker" />
/**
 * The solver in a Web Worker: parses the system, picks a backend, runs the solve, streams iteration updates
 * back through a Comlink callback and returns x (transferred, not copied). Errors come back as
 * { ok: false, error: { code, message } } so their codes survive the trip.
 */
import * as Comlink from "comlink";
import { isInputError } from "../../src/core/sparse/errors.ts";
import { generateByName } from "../../src/core/sparse/generators.ts";
import { parseMatrixMarket, parseMatrixMarketVector } from "../../src/core/sparse/matrix-market.ts";
import { multiply, ones } from "../../src/core/sparse/ops.ts";
import { nnzOf, type CsrMatrix } from "../../src/core/sparse/csr.ts";
import { isSolverError } from "../../src/core/solver/errors.ts";
import { solve } from "../../src/core/solver/solve.ts";
import type { IterationUpdate, SolveOptions, SolveResult } from "../../src/core/solver/types.ts";
import type { SolveJobOptions, SolveJobOutcome, SolveSource, SolverWorkerApi } from "./api.ts";
import { signalFromFlag } from "./cancel-flag.ts";
import { pickCpuKernels } from "./pick-kernels.ts";

function loadSystem(source: SolveSource): { a: CsrMatrix; b: Float64Array; rhsIsAOnes: boolean } {
  if (source.kind === "csr") return { a: source.a, b: source.b, rhsIsAOnes: false };
  if (source.kind === "generated") {
    const a = generateByName(source.name);
    if (!a) throw Object.assign(new Error(`unknown example "${source.name}"`), { code: "unknown_example" });
    return { a, b: multiply(a, ones(a.cols)), rhsIsAOnes: true };
  }
  const a = parseMatrixMarket(source.matrixText);
  if (source.rhsText === undefined) return { a, b: multiply(a, ones(a.cols)), rhsIsAOnes: true };
  const b = parseMatrixMarketVector(source.rhsText);
  return { a, b, rhsIsAOnes: false };
}

async function runOnWebGpu(a: CsrMatrix, b: Float64Array, options: SolveOptions): Promise<SolveResult> {
  const { createWebGpuSolver } = await import("./webgpu/index.ts");
  const solver = await createWebGpuSolver(self.navigator.gpu);
  try {
    return await solver.solve(a, b, options);
  } finally {
    solver.destroy();
  }
}

function errorOutcome(e: unknown): SolveJobOutcome {
  const code =
    isInputError(e) || isSolverError(e)
      ? e.code
      : typeof (e as { code?: unknown })?.code === "string"
        ? (e as { code: string }).code
        : "internal_error";
  const message = e instanceof Error ? e.message : String(e);
  return { ok: false, error: { code, message } };
}

const api: SolverWorkerApi = {
  async solve(source, jobOptions: SolveJobOptions, onUpdate: (u: IterationUpdate) => void, cancelFlag) {
    const setupStart = performance.now();
    try {
      const { a, b, rhsIsAOnes } = loadSystem(source);
      const notes: string[] = [];
      const options: SolveOptions = {
        method: jobOptions.method,
        tol: jobOptions.tol,
        maxIter: jobOptions.maxIter,
        updateEvery: jobOptions.updateEvery ?? 10,
        // x_partial is never asked for here: the chart needs residuals, and copying x per update is costly.
        onUpdate: (update) => onUpdate(update),
        ...(jobOptions.preconditioner ? { preconditioner: jobOptions.preconditioner } : {}),
        ...(jobOptions.restart ? { restart: jobOptions.restart } : {}),
        ...(jobOptions.timeLimitMs ? { timeLimitMs: jobOptions.timeLimitMs } : {}),
        ...(cancelFlag ? { signal: signalFromFlag(cancelFlag) } : {}),
      };
      let result: SolveResult;
      let setupMs: number;
      if (jobOptions.backend === "webgpu") {
        setupMs = performance.now() - setupStart;
        result = await runOnWebGpu(a, b, options);
      } else {
        const picked = await pickCpuKernels(jobOptions.backend, jobOptions.threads, nnzOf(a));
        notes.push(...picked.notes);
        setupMs = performance.now() - setupStart;
        try {
          result = solve(a, b, options, picked.kernels);
        } finally {
          picked.kernels.dispose();
        }
      }
      const summary = {
        name: source.name,
        n: a.rows,
        nnz: nnzOf(a),
        rhsIsAOnes,
        converged: result.converged,
        reason: result.reason,
        iterations: result.iterations,
        relResidual: result.relResidual,
        bestResidual: result.bestResidual,
        methodPath: result.methodPath,
        stages: result.stages ?? [],
        backend: result.backend,
        threads: result.threads,
        ms: result.ms,
        setupMs,
        notes,
        x: result.x,
      };
      return Comlink.transfer({ ok: true, summary }, [result.x.buffer as ArrayBuffer]);
    } catch (e) {
      return errorOutcome(e);
    }
  },
};

Comlink.expose(api);
