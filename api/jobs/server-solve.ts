import { CodedError } from "../../src/core/base/coded-error.ts";
import { createUpdateMailbox } from "../../src/core/solver/updates/index.ts";
import { relativeResidual } from "../../src/core/solver/certificate.ts";
import type { ThreadUpdate } from "../solve-messages.ts";
import type { RunningSolve } from "../solver-pool.ts";
import type { SolveRequest } from "../swarm-solve.ts";
import { ON_SERVER } from "../where.ts";
import type { Job } from "./job.ts";
import type { SolveJobInput } from "./solve-input.ts";

/** Runs one system on the server's solver threads (SessionManager.runOnThreads: the sessions' pool). */
export type RunOnThreads = (request: SolveRequest, onUpdate: (u: ThreadUpdate) => void) => RunningSolve;

export class JobSolveError extends CodedError {
  override readonly name = "JobSolveError";
}

/** The verified solutions of a solve job, one per right-hand side, and each one's ‖b − A x‖/‖b‖. */
export interface Solutions {
  readonly xs: readonly Float64Array[];
  readonly relResiduals: readonly number[];
}

/** Progress is read from the job's status, not streamed: the threads post rarely. */
const QUIET = { updateEvery: 1_000, xHead: 0, minUpdateMs: 1_000, xEveryMs: 60_000, verifyEvery: 1e9 };

/**
 * A solve job on the server's threads: one right-hand side after the other (one unit each, so a job never
 * holds more than one thread), each x certified here by its own residual before it counts. A distributed
 * job is one system: on the server it is one unit. Abort (DELETE) stops the running solve at its next
 * iteration and ends the job cancelled.
 */
export async function solveOnServer(
  job: Job,
  input: SolveJobInput,
  runOnThreads: RunOnThreads,
  timeLimitMs: number,
): Promise<Solutions> {
  const { a, rhs, tol } = input;
  const signal = job.abort.signal;
  job.update((j) => {
    j.computedOn = "server";
    j.units = rhs.map((_, index) => ({ index, status: "pending", where: null }));
    j.progress = { done: 0, total: rhs.length };
  });
  const xs: Float64Array[] = [];
  const relResiduals: number[] = [];
  for (const [index, b] of rhs.entries()) {
    signal.throwIfAborted();
    job.update((j) => (j.units[index] = { index, status: "running", where: ON_SERVER }));
    const request: SolveRequest = {
      a,
      b,
      method: input.method,
      tol,
      maxIter: input.maxIter,
      preconditioner: input.preconditioner,
      timeLimitMs,
      mailbox: createUpdateMailbox(),
      ...QUIET,
    };
    const run = runOnThreads(request, () => undefined);
    const stop = (): void => run.stop();
    signal.addEventListener("abort", stop, { once: true });
    const outcome = await run.done.finally(() => signal.removeEventListener("abort", stop));
    signal.throwIfAborted();
    if (!outcome.ok) throw new JobSolveError(outcome.code, `right-hand side ${index}: ${outcome.message}`);
    const rel = relativeResidual(a, outcome.x, b);
    if (!outcome.converged || !(rel <= tol)) {
      throw new JobSolveError(
        "not_converged",
        `right-hand side ${index}: ${outcome.reason} after ${outcome.iterations} iterations, relative residual ${rel} above the tolerance ${tol}`,
      );
    }
    xs.push(outcome.x);
    relResiduals.push(rel);
    job.update((j) => {
      j.units[index] = { index, status: "done", where: ON_SERVER };
      j.progress = { done: index + 1, total: rhs.length };
    });
  }
  return { xs, relResiduals };
}
