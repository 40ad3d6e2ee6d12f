import type { JobOutcome, JobStatus } from "../model.ts";
import type { SchedulerBook } from "./book.ts";

/** A unit of the job reached done or failed: the job finishes once none is left. */
export function unitTerminal(b: SchedulerBook, jobId: string): void {
  b.remaining.set(jobId, Math.max(0, b.remaining.get(jobId)! - 1));
  maybeFinishJob(b, jobId);
}

export function maybeFinishJob(b: SchedulerBook, jobId: string): void {
  const job = b.jobs.get(jobId)!;
  if (job.status !== "running" || b.remaining.get(jobId)! > 0) return;
  const failed = b.jobUnits.get(jobId)!.some((id) => b.units.get(id)!.status === "failed");
  finishJob(b, jobId, failed ? "failed" : "done", b.now());
}

/** Records the job's outcome (counts and the first failures) and announces it. */
export function finishJob(
  b: SchedulerBook,
  jobId: string,
  status: Exclude<JobStatus, "running">,
  now: number,
): void {
  const job = b.jobs.get(jobId)!;
  const units = b.jobUnits.get(jobId)!.map((id) => b.units.get(id)!);
  const done = units.filter((u) => u.status === "done").length;
  const failures = units
    .filter((u) => u.status === "failed" && u.error !== null)
    .map((u) => ({ unitId: u.id, code: u.error!.code, message: u.error!.message }));
  const message =
    status === "cancelled"
      ? `cancelled with ${done} of ${units.length} units verified`
      : status === "done"
        ? `all ${units.length} units verified`
        : `${failures.length} of ${units.length} units failed: ${failures[0]?.message ?? ""}`;
  const outcome: JobOutcome = {
    finishedAtMs: now,
    unitsDone: done,
    unitsFailed: failures.length,
    message,
    failures: failures.slice(0, 20),
  };
  b.jobs.set(jobId, { ...job, status, outcome });
  b.dirtyJobs.add(jobId);
  b.outbox.push({ type: "job-finished", jobId, status, outcome });
}
