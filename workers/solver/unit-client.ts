import type { UnitBackendUsed, UnitSolveOutcome, UnitSolver } from "../../src/core/jobs/volunteer/index.ts";
import { SolverClient } from "./client.ts";

const BACKENDS: readonly UnitBackendUsed[] = ["js", "wasm", "webgpu"];

/**
 * The volunteer's solver in a tab: the solver Web Worker (wasm kernels when they load, else js; WebGPU
 * when a unit requires it). The matrix is copied into the worker, not transferred: the volunteer keeps
 * the decoded matrix for the next unit of the same job. The unit's signal goes to the client: an abort
 * raises the shared flag and terminates the worker after 500 ms if it has not stopped (client.ts), so a
 * stop takes effect within a second.
 */
export function createWorkerUnitSolver(): UnitSolver {
  const client = new SolverClient();
  return {
    async solve(a, b, options, { signal, onProgress }): Promise<UnitSolveOutcome> {
      const handle = client.solve(
        { kind: "csr", name: "work unit", a, b },
        {
          method: options.method,
          tol: options.tol,
          maxIter: options.maxIter,
          updateEvery: options.updateEvery,
          backend: options.backend,
          ...(options.preconditioner !== undefined ? { preconditioner: options.preconditioner } : {}),
        },
        { signal, onUpdate: (u) => onProgress({ iteration: u.iteration, relResidual: u.residual_norm }) },
      );
      const o = await handle.outcome;
      if (!o.ok) return { ok: false, code: o.error.code, message: o.error.message };
      const s = o.summary;
      const backend = BACKENDS.find((name) => s.backend.startsWith(name)) ?? "js";
      return {
        ok: true,
        x: s.x,
        converged: s.converged,
        iterations: s.iterations,
        relResidual: s.relResidual,
        methodPath: s.methodPath,
        backend,
        ms: s.ms,
      };
    },
    dispose: () => client.dispose(),
  };
}
