import { parentPort } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { CsrMatrix } from "../core/sparse/csr.ts";
import type { UnitSolveOptions } from "../core/jobs/volunteer/unit-solver.ts";
import { solveWithPickedKernels } from "../../kernels/solve-with-picked-kernels.ts";

/**
 * The Node volunteer's solver thread: one solve at a time with the wasm kernels (kernels/pick-kernels.ts,
 * helper threads for a big matrix), as the tab's solver worker does. A solve runs synchronously here, so
 * the main thread stays free for heartbeats and the mesh; a stop arrives through a shared flag the
 * iteration monitor reads every iteration.
 */
export interface SolveRequest {
  readonly a: CsrMatrix;
  readonly b: Float64Array;
  readonly options: UnitSolveOptions;
  /** 1 = stop (SharedArrayBuffer, so it reaches a busy thread). */
  readonly stop: Int32Array;
  readonly threads: number | undefined;
}

export type SolveReply =
  | { readonly kind: "progress"; readonly iteration: number; readonly relResidual: number }
  | {
      readonly kind: "done";
      readonly ok: true;
      readonly solved: {
        x: Float64Array;
        converged: boolean;
        iterations: number;
        relResidual: number | null;
        methodPath: string[];
        backend: string;
        ms: number;
      };
    }
  | { readonly kind: "done"; readonly ok: false; readonly code: string; readonly message: string };

async function run(request: SolveRequest): Promise<SolveReply> {
  const { options } = request;
  const outcome = await solveWithPickedKernels(
    request.a,
    request.b,
    {
      method: options.method,
      tol: options.tol,
      maxIter: options.maxIter,
      updateEvery: options.updateEvery,
      onUpdate: (u) =>
        parentPort?.postMessage({ kind: "progress", iteration: u.iteration, relResidual: u.residual_norm }),
      ...(options.preconditioner !== undefined ? { preconditioner: options.preconditioner } : {}),
    },
    request.stop,
    { threads: request.threads, cores: availableParallelism() },
  );
  if (!outcome.ok) return { kind: "done", ...outcome };
  const r = outcome.result;
  return {
    kind: "done",
    ok: true,
    solved: {
      x: r.x,
      converged: r.converged,
      iterations: r.iterations,
      relResidual: r.relResidual,
      methodPath: [...r.methodPath],
      backend: r.backend,
      ms: r.ms,
    },
  };
}

parentPort?.on("message", (request: SolveRequest) => {
  void run(request).then((reply) => {
    const transfer = reply.kind === "done" && reply.ok ? [reply.solved.x.buffer as ArrayBuffer] : [];
    parentPort?.postMessage(reply, transfer);
  });
});
