import type { SolveJob, WorkUnit } from "../../core/jobs/model.ts";
import type { RequesterRuntime, ResidualSeries } from "../../core/jobs/requester/index.ts";
import { residualProgress } from "../../core/jobs/volunteer/index.ts";
import { estimateRemainingMs } from "./eta.ts";
import type { JobView, JobVolunteerView, UnitView, VerificationStatus, VolunteerStatsView } from "./types.ts";

/** Read-only views of the requester runtime for the Dashboard (recomputed a few times a second at most). */

function unitsTotalOf(job: SolveJob): number {
  if (job.kind === "distributed-solve") return job.spec.blocks ?? 0;
  return Math.ceil(job.spec.rhs.length / (job.kind === "multi-rhs" ? (job.spec.rhsPerUnit ?? 1) : 1));
}

export function jobView(rt: RequesterRuntime, job: SolveJob, nowMs: number = Date.now()): JobView {
  const units = rt.units(job.id);
  const known = units.length > 0;
  const unitsTotal = known ? units.length : unitsTotalOf(job);
  const unitsDone = known ? units.filter((u) => u.status === "done").length : (job.outcome?.unitsDone ?? 0);
  let worst: number | null = null;
  for (const u of units) {
    const r = u.status === "done" ? rt.unitResidual(u.id) : null;
    if (r !== null) worst = worst === null ? r : Math.max(worst, r);
  }
  return {
    id: job.id,
    name: rt.nameOf(job.id),
    kind: job.kind,
    status: job.status,
    createdAtMs: job.createdAtMs,
    finishedAtMs: job.outcome?.finishedAtMs ?? null,
    tol: job.tolerance,
    method: job.spec.method,
    n: job.spec.matrix.rows,
    nnz: job.spec.matrix.nnz,
    rhsCount: job.spec.rhs.length,
    unitsTotal,
    unitsDone,
    remainingMs:
      job.status === "running" ? estimateRemainingMs(unitsDone, unitsTotal, job.createdAtMs, nowMs) : null,
    unitsFailed: known ? units.filter((u) => u.status === "failed").length : (job.outcome?.unitsFailed ?? 0),
    // Units not loaded yet (a finished job after a reload): the certificate saved when it finished.
    worstRelResidual: known ? worst : rt.savedWorstResidual(job.id),
    rhsSeed: rt.rhsSeed(job.id),
    error: job.status === "failed" || job.status === "cancelled" ? (job.outcome?.message ?? null) : null,
  };
}

function verificationOf(u: WorkUnit): VerificationStatus {
  if (u.status === "done") return "verified";
  if (u.status === "verifying") return "pending";
  const last = u.history[u.history.length - 1];
  return last?.outcome === "invalid-result" ? "rejected" : "none";
}

export function unitView(rt: RequesterRuntime, job: SolveJob, u: WorkUnit): UnitView {
  const live = rt.progressOf(u.id);
  const current = live !== null && live.attempt === u.attempt ? live : null;
  let progress = 0;
  if (u.status === "done") progress = 1;
  else if (current !== null && (u.status === "leased" || u.status === "verifying")) {
    const within = current.relResidual === null ? 0 : residualProgress(current.relResidual, job.tolerance);
    progress = u.status === "verifying" ? 1 : (current.rhsDone + within) / current.rhsTotal;
  }
  // Once verified, the unit's final state is what its result claimed, never its last progress report
  // (which can be far from the end: a hybrid reports its Krylov stage, then finishes with a direct solve).
  const claims = u.status === "done" ? rt.unitClaims(u.id) : null;
  const running = u.status === "leased" || u.status === "verifying" ? current : null;
  return {
    id: u.id,
    index: u.index,
    attempt: u.attempt,
    status: u.status,
    volunteerId: u.lease?.volunteerId ?? u.result?.volunteerId ?? null,
    progress,
    iteration: claims?.iterations ?? running?.iteration ?? null,
    residual: claims !== null ? claims.relResidual : (running?.relResidual ?? null),
    reported: claims !== null ? "result" : running !== null ? "progress" : null,
    verification: verificationOf(u),
    relResidual: u.status === "done" ? rt.unitResidual(u.id) : null,
    backend: current?.backend ?? null,
    attemptsUsed: u.attemptsUsed,
  };
}

export function volunteerViews(rt: RequesterRuntime): VolunteerStatsView[] {
  return rt.scheduler.volunteers().map((v) => {
    const rep = rt.scheduler.reputation.get(v.peerId);
    return {
      peerId: v.peerId,
      unitsInFlight: v.inFlight,
      unitsDone: rep.totalValid,
      consecutiveValid: rep.consecutiveValid,
      totalValid: rep.totalValid,
      totalInvalid: rep.totalInvalid,
      banned: v.banned,
      speedFlopsPerS: v.measuredFlopsPerMs === null ? null : v.measuredFlopsPerMs * 1000,
    };
  });
}

/**
 * The volunteers of one job, counted on that job only (the reputation columns are over all jobs, and say
 * so): whoever holds a unit now, computed a verified one, or had a result rejected.
 */
export function jobVolunteerViews(
  rt: RequesterRuntime,
  units: readonly WorkUnit[],
  all: readonly VolunteerStatsView[],
): JobVolunteerView[] {
  return withReputation(rt, unitCounts(units), all);
}

type UnitCounts = Pick<JobVolunteerView, "peerId" | "unitsInFlight" | "unitsVerified" | "resultsRejected">;

/** Per volunteer of the job: units it holds, computed and verified, and results of it rejected. */
function unitCounts(units: readonly WorkUnit[]): UnitCounts[] {
  const byId = new Map<string, UnitCounts>();
  const entry = (peerId: string): UnitCounts => {
    let v = byId.get(peerId);
    if (v === undefined) {
      v = { peerId, unitsInFlight: 0, unitsVerified: 0, resultsRejected: 0 };
      byId.set(peerId, v);
    }
    return v;
  };
  for (const u of units) {
    if (u.status === "leased" && u.lease !== null) entry(u.lease.volunteerId).unitsInFlight++;
    if (u.status === "done" && u.result !== null) entry(u.result.volunteerId).unitsVerified++;
    for (const h of u.history) if (h.outcome === "invalid-result") entry(h.volunteerId).resultsRejected++;
  }
  return [...byId.values()];
}

/** The counts with the columns over all jobs (reputation, ban, speed), which change as other jobs run. */
function withReputation(
  rt: RequesterRuntime,
  counts: readonly UnitCounts[],
  all: readonly VolunteerStatsView[],
): JobVolunteerView[] {
  const stats = new Map(all.map((s) => [s.peerId, s]));
  return counts.map((c) => {
    const rep = rt.scheduler.reputation.get(c.peerId);
    const s = stats.get(c.peerId);
    return {
      ...c,
      totalValid: rep.totalValid,
      totalInvalid: rep.totalInvalid,
      consecutiveValid: rep.consecutiveValid,
      banned: s?.banned ?? false,
      speedFlopsPerS: s?.speedFlopsPerS ?? null,
    };
  });
}

/**
 * What a finished job's views need from its units, kept per job object: the scheduler replaces a job's
 * object (and a unit's) whenever it changes, and a finished job's units no longer change, so these stay
 * right while the object and its units are the same. Without it every refresh recomputed every job of the
 * session, unit by unit: a refresh cost grew with the session, not with what changed.
 */
interface FinishedViews {
  readonly first: WorkUnit;
  readonly count: number;
  readonly job: JobView;
  readonly units: UnitView[];
  readonly counts: UnitCounts[];
}
const finishedViews = new WeakMap<SolveJob, FinishedViews>();

function finishedViewsOf(rt: RequesterRuntime, job: SolveJob, list: readonly WorkUnit[]): FinishedViews {
  const cached = finishedViews.get(job);
  if (cached !== undefined && cached.count === list.length && cached.first === list[0]) return cached;
  const views: FinishedViews = {
    first: list[0]!,
    count: list.length,
    job: jobView(rt, job),
    units: list.map((u) => unitView(rt, job, u)),
    counts: unitCounts(list),
  };
  finishedViews.set(job, views);
  return views;
}

export interface JobsViews {
  jobs: JobView[];
  units: Record<string, UnitView[]>;
  residualSeries: Record<string, readonly ResidualSeries[]>;
  volunteers: VolunteerStatsView[];
  jobVolunteers: Record<string, JobVolunteerView[]>;
}

export function jobsViews(rt: RequesterRuntime): JobsViews {
  const jobs = rt.jobs();
  const volunteers = volunteerViews(rt);
  const units: Record<string, UnitView[]> = {};
  const residualSeries: Record<string, readonly ResidualSeries[]> = {};
  const jobVolunteers: Record<string, JobVolunteerView[]> = {};
  const jobViews: JobView[] = [];
  for (const job of jobs) {
    const list = rt.units(job.id);
    if (list.length > 0 && job.status !== "running") {
      const done = finishedViewsOf(rt, job, list);
      units[job.id] = done.units;
      jobVolunteers[job.id] = withReputation(rt, done.counts, volunteers);
      jobViews.push(done.job);
    } else {
      if (list.length > 0) {
        units[job.id] = list.map((u) => unitView(rt, job, u));
        jobVolunteers[job.id] = jobVolunteerViews(rt, list, volunteers);
      }
      jobViews.push(jobView(rt, job));
    }
    const lines = rt.residualSeries(job.id);
    if (lines.length > 0) residualSeries[job.id] = lines;
  }
  return { jobs: jobViews, units, residualSeries, volunteers, jobVolunteers };
}
