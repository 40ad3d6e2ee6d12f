import { nnzOf, type CsrMatrix } from "../../src/core/sparse/csr.ts";
import {
  closeMailbox,
  type LiveUpdateEvent,
  mailboxSource,
  solveCold,
} from "../../src/core/solver/updates/index.ts";
import { solve } from "../../src/core/solver/solve.ts";
import type { IterationUpdate, SolveOptions, SolveResult } from "../../src/core/solver/types.ts";
import type { SolveJobEvent, SolveJobOptions, SolveJobSummary, SolveJobUpdates } from "./api.ts";
import { signalFromFlag } from "./cancel-flag.ts";
import { pickKernels } from "../../kernels/pick-kernels.ts";

export interface JobSystem {
  name: string;
  a: CsrMatrix;
  b: Float64Array;
  rhsIsAOnes: boolean;
  /** performance.now() when reading the job began (for setupMs). */
  setupStart: number;
}

/** A warm re-solve: start from x0; `applied` is the event of the batch that made this system. */
export interface WarmStart {
  x0: Float64Array;
  applied: Extract<LiveUpdateEvent, { type: "update_applied" }>;
}

export interface JobIo {
  onUpdate: (update: IterationUpdate) => void;
  cancelFlag: Int32Array | null;
  mailbox: SharedArrayBuffer | null;
  onEvent: ((event: SolveJobEvent) => void) | null;
}

/** What the worker keeps for the next resolveWarm: the system x solves (after any update) and x. */
export interface KeptSystem {
  name: string;
  a: CsrMatrix;
  b: Float64Array;
  x: Float64Array;
}

/** The cores a tab's solve may use: the browser's count, at most 8 (the page and other tabs share them). */
function tabCores(): number {
  return Math.max(1, Math.min(self.navigator.hardwareConcurrency || 1, 8));
}

async function runOnWebGpu(a: CsrMatrix, b: Float64Array, options: SolveOptions): Promise<SolveResult> {
  const { createWebGpuSolver } = await import("../../kernels/webgpu/index.ts");
  const solver = await createWebGpuSolver(self.navigator.gpu);
  try {
    return await solver.solve(a, b, options);
  } finally {
    solver.destroy();
  }
}

function baseOptions(job: SolveJobOptions, io: JobIo): SolveOptions {
  return {
    method: job.method,
    tol: job.tol,
    maxIter: job.maxIter,
    updateEvery: job.updateEvery ?? 10,
    // x_partial is never asked for here: the chart needs residuals, and copying x per update is costly.
    onUpdate: (update) => io.onUpdate(update),
    ...(job.preconditioner ? { preconditioner: job.preconditioner } : {}),
    ...(job.restart ? { restart: job.restart } : {}),
    ...(job.timeLimitMs ? { timeLimitMs: job.timeLimitMs } : {}),
    ...(io.cancelFlag ? { signal: signalFromFlag(io.cancelFlag) } : {}),
  };
}

/** Folds the warm start's batch and the live updates into the job's update report (undefined: none). */
function updatesOf(result: SolveResult, warm: WarmStart | null): SolveJobUpdates | undefined {
  const live = result.updates;
  const applied = (warm ? 1 : 0) + (live?.applied ?? 0);
  const rejected = live?.rejected ?? 0;
  if (applied + rejected === 0) return undefined;
  const liveApplied = live !== undefined && live.applied > 0;
  return {
    applied,
    rejected,
    iterationsWarm: liveApplied ? live.iterationsSinceLastUpdate : result.iterations,
    iterationsCold: null,
    coldConverged: null,
    saved: null,
    warmStartResidual: liveApplied ? live.warmStartResidual : (warm?.applied.residualAfter ?? null),
  };
}

/**
 * One solve in the worker: the CPU kernels (with live updates through the mailbox) or WebGPU (whose fused
 * loop has no update hook: its mailbox is closed at once, so the page applies updates after it, warm),
 * then, when updates were applied and the job asked, a cold solve of the final system for comparison.
 */
export async function runJob(
  sys: JobSystem,
  job: SolveJobOptions,
  io: JobIo,
  warm: WarmStart | null,
): Promise<{ summary: SolveJobSummary; kept: KeptSystem }> {
  const { a, b } = sys;
  const notes: string[] = [];
  const options = baseOptions(job, io);
  if (warm !== null) options.x0 = warm.x0;
  const live = io.mailbox !== null && job.backend !== "webgpu";
  if (io.mailbox !== null && !live) closeMailbox(io.mailbox);
  if (live) options.liveUpdates = { source: mailboxSource(io.mailbox!), onEvent: (e) => io.onEvent?.(e) };
  io.onEvent?.({ type: "system", n: a.rows, nnz: nnzOf(a), liveUpdates: live });
  if (warm !== null) io.onEvent?.(warm.applied);

  let result: SolveResult;
  let setupMs: number;
  const coldWanted = (r: SolveResult): boolean =>
    job.compareCold === true && (warm !== null || (r.updates?.applied ?? 0) > 0);
  let cold: SolveResult | null = null;
  if (job.backend === "webgpu") {
    setupMs = performance.now() - sys.setupStart;
    result = await runOnWebGpu(a, b, options);
    if (coldWanted(result)) {
      io.onEvent?.({ type: "cold_start" });
      const { x0: _x0, onUpdate: _onUpdate, ...coldOptions } = options;
      cold = await runOnWebGpu(a, b, coldOptions);
    }
  } else {
    const picked = await pickKernels({
      choice: job.backend,
      threads: job.threads,
      nnz: nnzOf(a),
      cores: tabCores(),
    });
    notes.push(...picked.notes);
    setupMs = performance.now() - sys.setupStart;
    try {
      result = solve(a, b, options, picked.kernels);
      if (coldWanted(result) && result.reason !== "cancelled") {
        io.onEvent?.({ type: "cold_start" });
        const final = result.updates?.system ?? { a, b };
        cold = solveCold(final.a, final.b, options, picked.kernels);
      }
    } finally {
      picked.kernels.dispose();
    }
  }
  const updates = updatesOf(result, warm);
  if (updates !== undefined) {
    if (cold !== null && cold.reason !== "cancelled") {
      updates.iterationsCold = cold.iterations;
      updates.coldConverged = cold.converged;
      updates.saved = cold.iterations - updates.iterationsWarm;
      if (!cold.converged) updates.note = `the cold solve did not converge (${cold.reason})`;
    } else if (job.compareCold === true && updates.applied > 0) {
      updates.note = "the cold comparison was not run (the solve was cancelled)";
    }
  }
  // Say why a solve took no iteration (b = 0), rather than show an empty path and a rate of NaN.
  for (const stage of result.stages ?? []) if (stage.iterations === 0 && stage.note) notes.push(stage.note);
  const final = result.updates?.system ?? { a, b };
  const summary: SolveJobSummary = {
    name: sys.name,
    n: final.a.rows,
    nnz: nnzOf(final.a),
    rhsIsAOnes: sys.rhsIsAOnes && (updates?.applied ?? 0) === 0,
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
  if (updates !== undefined) summary.updates = updates;
  return { summary, kept: { name: sys.name, a: final.a, b: final.b, x: result.x.slice() } };
}
