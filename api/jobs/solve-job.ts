import type { ServerMetrics } from "../../signaling/metrics.ts";
import type { Job, JobResults } from "./job.ts";
import { JobSolveError, solveOnServer, type RunOnThreads, type Solutions } from "./server-solve.ts";
import type { SolveJobInput } from "./solve-input.ts";
import { solveOnSwarmJob, type SwarmJobDeps } from "./swarm-job.ts";

export interface SolveJobDeps {
  /** The swarm path (null: the requester is off, or the request's origin is unknown). */
  readonly swarm: SwarmJobDeps | null;
  readonly runOnThreads: RunOnThreads;
  readonly timeLimitMs: number;
  readonly metrics: ServerMetrics;
}

/**
 * Runs a solve job to its end: on the swarm when it may (solve on volunteers, certified here), else or when
 * the swarm hands it back on the server's threads, with a note saying why; the job ends done (results: every
 * x and its certificate), failed (the error) or cancelled (DELETE).
 */
export async function runSolveJob(job: Job, input: SolveJobInput, deps: SolveJobDeps): Promise<void> {
  const signal = job.abort.signal;
  job.update((j) => {
    j.status = "running";
    j.progress = { done: 0, total: input.distribute ?? input.rhs.length };
  });
  try {
    let solutions: Solutions | null = null;
    if (deps.swarm !== null && input.swarmEnabled) {
      // DELETE need not wait for a join or a link wait to time out: those see the signal and submit nothing.
      const outcome = await Promise.race([solveOnSwarmJob(job, input, deps.swarm), whenAborted(signal)]);
      if (outcome.kind === "cancelled") throw signal.reason ?? new Error("cancelled");
      if (outcome.kind === "time_limit") throw new JobSolveError("time_limit", outcome.message);
      if (outcome.kind === "done") {
        deps.metrics.api.jobsOnSwarm++;
        solutions = outcome.solutions;
      } else job.note(`computed on the server: ${outcome.reason}`);
    } else {
      const why = input.swarmEnabled
        ? "this server's swarm requester is off"
        : "options.swarm_enabled is false";
      job.note(`computed on the server: ${why}`);
    }
    if (solutions === null) {
      deps.metrics.api.jobsOnServer++;
      solutions = await solveOnServer(job, input, deps.runOnThreads, deps.timeLimitMs);
    }
    job.finish("done", solveResults(input, solutions));
  } catch (error) {
    if (signal.aborted) job.finish("cancelled", null);
    else job.finish("failed", null, asCoded(error));
  }
}

function whenAborted(signal: AbortSignal): Promise<{ kind: "cancelled" }> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve({ kind: "cancelled" });
    else signal.addEventListener("abort", () => resolve({ kind: "cancelled" }), { once: true });
  });
}

function solveResults(input: SolveJobInput, { xs, relResiduals }: Solutions): JobResults {
  return {
    n: input.a.rows,
    tolerance: input.tol,
    ...(input.rhsSeed !== undefined ? { rhs_seed: input.rhsSeed } : {}),
    rel_residuals: relResiduals,
    x: xs.map((x) => Array.from(x)),
  };
}

/** Any error as `{code, message}` (a coded one keeps its code). */
export function asCoded(error: unknown): Error & { code: string } {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === "string") {
    return error as Error & { code: string };
  }
  return Object.assign(new Error(String(error instanceof Error ? error.message : error)), {
    code: "job_failed",
  });
}
