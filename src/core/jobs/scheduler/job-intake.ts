import { JobError } from "../../protocol/job-errors.ts";
import { finishJob, maybeFinishJob } from "./job-completion.ts";
import { appendCapped, unitIdOf, type SolveJob, type WorkUnit } from "../model.ts";
import type { SchedulerBook } from "./book.ts";
import type { SchedulerState } from "./types.ts";
import type { UnitDraft } from "../split.ts";

/** Jobs entering and leaving the scheduler: new jobs, jobs restored after a reload, cancelled jobs. */

/** Checks a new running job and its drafts (from planJob) and turns the drafts into pending units. */
export function newJobUnits(b: SchedulerBook, job: SolveJob, drafts: readonly UnitDraft[]): WorkUnit[] {
  if (b.jobs.has(job.id)) throw new JobError("duplicate_job", `job ${job.id} already exists`);
  if (job.status !== "running") throw new JobError("invalid_state", `job ${job.id} is ${job.status}`);
  if (drafts.length === 0) throw new JobError("invalid_spec", `job ${job.id} has no units`);
  const indices = drafts.map((d) => d.index).sort((p, q) => p - q);
  if (indices.some((ix, i) => ix !== i)) {
    throw new JobError("invalid_spec", `unit indices of job ${job.id} must be 0..${drafts.length - 1}`);
  }
  return drafts.map((d) => ({
    id: unitIdOf(job.id, d.index),
    jobId: job.id,
    index: d.index,
    attempt: 0,
    status: "pending",
    requirements: d.requirements,
    task: d.task,
    costFlops: d.costFlops,
    lease: null,
    attemptsUsed: 0,
    failedBy: [],
    resultsSeen: [],
    history: [],
    result: null,
    error: null,
  }));
}

/** Persisted state can be restored only into an empty scheduler, with no unit still leased or orphaned. */
export function checkRestorable(b: SchedulerBook, state: SchedulerState): void {
  if (b.jobs.size > 0) throw new JobError("invalid_state", "restore() needs an empty scheduler");
  const bad = state.units.find((u) => u.status === "leased" || !state.jobs.some((j) => j.id === u.jobId));
  if (bad !== undefined) {
    throw new JobError(
      "invalid_state",
      bad.status === "leased"
        ? `unit ${bad.id} is still leased: normalise the state with resumeUnits() first`
        : `unit ${bad.id} belongs to no restored job`,
    );
  }
}

/** Indexes jobs and units; `dirty` journals them (not when they come from the repository already). */
export function insertJobs(
  b: SchedulerBook,
  jobs: readonly SolveJob[],
  units: readonly WorkUnit[],
  dirty = true,
): void {
  for (const job of [...jobs].sort((p, q) => p.createdAtMs - q.createdAtMs)) {
    b.jobs.set(job.id, job);
    b.jobOrder.set(job.id, b.jobOrder.size);
    b.jobUnits.set(job.id, []);
    b.remaining.set(job.id, 0);
    if (dirty) b.dirtyJobs.add(job.id);
  }
  for (const u of [...units].sort((p, q) => p.index - q.index)) {
    b.units.set(u.id, u);
    b.jobUnits.get(u.jobId)!.push(u.id);
    if (u.status !== "done" && u.status !== "failed") {
      b.remaining.set(u.jobId, b.remaining.get(u.jobId)! + 1);
    }
    if (u.status === "pending") b.pending.add(u.id, b.queueKey(u));
    if (dirty) b.dirtyUnits.add(u.id);
  }
  for (const job of jobs) maybeFinishJob(b, job.id);
}

/** Cancels a running job: its leased units get a cancel, every unfinished unit fails "job_cancelled". */
export function cancelJob(b: SchedulerBook, jobId: string): boolean {
  const job = b.jobs.get(jobId);
  if (job === undefined || job.status !== "running") return false;
  const now = b.now();
  for (const id of b.jobUnits.get(jobId)!) {
    const u = b.units.get(id)!;
    if (u.status === "done" || u.status === "failed") continue;
    let history = u.history;
    if (u.status === "leased") {
      const lease = u.lease!;
      b.release(lease.volunteerId, u);
      b.sendCancel(lease.volunteerId, u.id, lease.attempt, "job-cancelled");
      history = appendCapped(history, {
        attempt: lease.attempt,
        volunteerId: lease.volunteerId,
        outcome: "job-cancelled",
        atMs: now,
        detail: "the requester cancelled the job",
        charged: false,
      });
    }
    b.pending.delete(id);
    b.leased.delete(id);
    b.put({
      ...u,
      status: "failed",
      lease: null,
      history,
      error: { code: "job_cancelled", message: `job ${jobId} was cancelled` },
    });
  }
  b.remaining.set(jobId, 0);
  finishJob(b, jobId, "cancelled", now);
  return true;
}
