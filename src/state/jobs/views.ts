import type { SolveJob, WorkUnit } from "../../core/jobs/model.ts";
import type { RequesterRuntime, ResidualSeries } from "../../core/jobs/requester/index.ts";
import { residualProgress } from "../../core/jobs/volunteer/index.ts";
import type { JobView, UnitView, VerificationStatus, VolunteerStatsView } from "./types.ts";

/** Read-only views of the requester runtime for the Dashboard (recomputed a few times a second at most). */

function unitsTotalOf(job: SolveJob): number {
  if (job.kind === "distributed-solve") return job.spec.blocks ?? 0;
  return Math.ceil(job.spec.rhs.length / (job.kind === "multi-rhs" ? (job.spec.rhsPerUnit ?? 1) : 1));
}

export function jobView(rt: RequesterRuntime, job: SolveJob): JobView {
  const units = rt.units(job.id);
  const known = units.length > 0;
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
    unitsTotal: known ? units.length : unitsTotalOf(job),
    unitsDone: known ? units.filter((u) => u.status === "done").length : (job.outcome?.unitsDone ?? 0),
    unitsFailed: known ? units.filter((u) => u.status === "failed").length : (job.outcome?.unitsFailed ?? 0),
    worstRelResidual: worst,
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
  return {
    id: u.id,
    index: u.index,
    attempt: u.attempt,
    status: u.status,
    volunteerId: u.lease?.volunteerId ?? u.result?.volunteerId ?? null,
    progress,
    iteration: current?.iteration ?? null,
    residual: current?.relResidual ?? null,
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

export interface JobsViews {
  jobs: JobView[];
  units: Record<string, UnitView[]>;
  residualSeries: Record<string, readonly ResidualSeries[]>;
  volunteers: VolunteerStatsView[];
}

export function jobsViews(rt: RequesterRuntime): JobsViews {
  const jobs = rt.jobs();
  const units: Record<string, UnitView[]> = {};
  const residualSeries: Record<string, readonly ResidualSeries[]> = {};
  for (const job of jobs) {
    const list = rt.units(job.id);
    if (list.length > 0) units[job.id] = list.map((u) => unitView(rt, job, u));
    const lines = rt.residualSeries(job.id);
    if (lines.length > 0) residualSeries[job.id] = lines;
  }
  return { jobs: jobs.map((j) => jobView(rt, j)), units, residualSeries, volunteers: volunteerViews(rt) };
}
