import type { UnitSolveOutcome, UnitSolver } from "../../src/core/jobs/volunteer/index.ts";
import { SolverClient } from "./client.ts";

/**
 * The volunteer's solver in a tab: the solver Web Worker (wasm kernels when they load, else js; WebGPU
 * when a unit requires it). The matrix is copied into the worker, not transferred: the volunteer keeps
 * the decoded matrix for the next unit of the same job. The worker's summary is handed on as the unit's
 * solution as it is (src/core/protocol/rhs-solution.ts). The unit's signal goes to the client: an abort
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
      return o.ok
        ? { ok: true, solved: o.summary }
        : { ok: false, code: o.error.code, message: o.error.message };
    },
    dispose: () => client.dispose(),
  };
}
