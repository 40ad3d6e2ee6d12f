import { availableParallelism } from "node:os";
import { parentPort } from "node:worker_threads";
import { solveWithPickedKernels } from "../kernels/solve-with-picked-kernels.ts";
import type { IterationUpdate } from "../src/core/solver/types.ts";
import { mailboxSource } from "../src/core/solver/updates/index.ts";
import type { ThreadLiveEvent, ThreadReply, ThreadSolveRequest, ThreadUpdate } from "./solve-messages.ts";

/**
 * One API solve at a time in this thread, with the wasm kernels (kernels/pick-kernels.ts), so the server's
 * event loop stays free for every other request. The iteration monitor reports every `updateEvery`
 * iterations; this thread posts at most one update per `minUpdateMs` (plus each one due for verification),
 * so a fast small solve is not slowed by messages nobody could read that fast.
 */
function updatePoster(request: ThreadSolveRequest): (u: IterationUpdate) => void {
  let lastPostMs = -Infinity;
  let lastXMs = -Infinity;
  let nextVerify = request.verifyEvery;
  return (u) => {
    const nowMs = performance.now();
    const verify = u.iteration >= nextVerify;
    if (!verify && nowMs - lastPostMs < request.minUpdateMs) return;
    const full = u.x_partial ?? null;
    const withX = full !== null && (verify || nowMs - lastXMs >= request.xEveryMs);
    const update: ThreadUpdate = {
      kind: "update",
      method: u.method,
      iteration: u.iteration,
      residualNorm: u.residual_norm,
      convergenceRate: u.convergence_rate,
      performance: u.performance,
      xHead: full === null ? new Float64Array(0) : full.slice(0, request.xHead),
      x: withX ? full : null,
      verify: verify && full !== null,
    };
    if (verify) nextVerify = (Math.floor(u.iteration / request.verifyEvery) + 1) * request.verifyEvery;
    lastPostMs = nowMs;
    if (withX) lastXMs = nowMs;
    parentPort?.postMessage(update, update.x === null ? [] : [update.x.buffer as ArrayBuffer]);
  };
}

async function run(request: ThreadSolveRequest): Promise<ThreadReply> {
  const outcome = await solveWithPickedKernels(
    request.a,
    request.b,
    {
      method: request.method,
      tol: request.tol,
      maxIter: request.maxIter,
      updateEvery: request.updateEvery,
      includeXPartial: true,
      timeLimitMs: request.timeLimitMs,
      onUpdate: updatePoster(request),
      liveUpdates: {
        source: mailboxSource(request.mailbox),
        onEvent: (event) => parentPort?.postMessage({ kind: "live", event } satisfies ThreadLiveEvent),
      },
      ...(request.preconditioner !== undefined ? { preconditioner: request.preconditioner } : {}),
    },
    request.stop,
    { threads: undefined, cores: availableParallelism() },
  );
  if (!outcome.ok) return { kind: "done", ...outcome };
  const r = outcome.result;
  return {
    kind: "done",
    ok: true,
    x: r.x,
    converged: r.converged,
    reason: r.reason,
    iterations: r.iterations,
    relResidual: r.relResidual,
    methodPath: [...r.methodPath],
    backend: r.backend,
    ms: r.ms,
  };
}

parentPort?.on("message", (request: ThreadSolveRequest) => {
  void run(request).then((reply) => {
    const transfer = reply.kind === "done" && reply.ok ? [reply.x.buffer as ArrayBuffer] : [];
    parentPort?.postMessage(reply, transfer);
  });
});
