import type { JobVolunteerView, ResidualSeries, UnitView } from "../../../state/jobs/index.ts";
import { formatDuration, formatResidual, formatTimestamp } from "../../format.ts";
import { useJobs } from "../../hooks/use-jobs.ts";
import { ResidualChart } from "../solve/ResidualChart.tsx";
import { StatusBadge } from "../StatusBadge.tsx";
import { JobActions } from "./JobActions.tsx";
import { JobVolunteers } from "./JobVolunteers.tsx";
import { SolutionDownloads } from "./SolutionDownloads.tsx";
import { UnitTable } from "./UnitTable.tsx";

// Stable empties: a selector returning a fresh [] would re-render forever.
const NO_UNITS: readonly UnitView[] = [];
const NO_SERIES: readonly ResidualSeries[] = [];
const NO_VOLUNTEERS: readonly JobVolunteerView[] = [];

/** The selected job, live: progress, units and their verification, residual chart, volunteers, downloads. */
export function JobDetail() {
  const job = useJobs((s) => s.jobs.find((j) => j.id === s.selectedJobId) ?? null);
  const units = useJobs((s) =>
    s.selectedJobId === null ? NO_UNITS : (s.units[s.selectedJobId] ?? NO_UNITS),
  );
  const series = useJobs((s) =>
    s.selectedJobId === null ? NO_SERIES : (s.residualSeries[s.selectedJobId] ?? NO_SERIES),
  );
  // The volunteers that hold or held a unit of this job, counted on this job (views.ts).
  const volunteers = useJobs((s) =>
    s.selectedJobId === null ? NO_VOLUNTEERS : (s.jobVolunteers[s.selectedJobId] ?? NO_VOLUNTEERS),
  );

  if (!job) return null;
  const fraction = job.unitsTotal > 0 ? job.unitsDone / job.unitsTotal : 0;

  return (
    <section className="card" data-testid="job-detail" data-job-id={job.id} data-status={job.status}>
      <h2>
        {job.name} · {job.kind} · <StatusBadge status={job.status} testId="job-detail-status" />
      </h2>
      <progress value={fraction} max={1} aria-label="job progress" data-testid="job-progress" />
      <div className="row" style={{ justifyContent: "space-between" }}>
        <span className="muted" data-testid="job-units-summary">
          {job.unitsDone} of {job.unitsTotal} units verified
          {job.unitsFailed > 0 ? ` · ${job.unitsFailed} failed` : ""}
          {job.status === "running" && (
            <span data-testid="job-eta" data-remaining-ms={job.remainingMs ?? undefined}>
              {" · "}
              {job.remainingMs === null ? "estimating…" : `about ${formatDuration(job.remainingMs)} left`}
            </span>
          )}
        </span>
        <JobActions job={job} />
      </div>
      {job.error && (
        <p className="error" role="alert" data-testid="job-error">
          {job.error}
        </p>
      )}
      <dl className="kv" style={{ marginTop: 12 }}>
        <dt>System</dt>
        <dd>
          n = {job.n.toLocaleString()}, nnz = {job.nnz.toLocaleString()}, {job.rhsCount} right-hand side
          {job.rhsCount === 1 ? "" : "s"}
        </dd>
        <dt>Right-hand sides</dt>
        <dd data-testid="job-rhs">
          {job.rhsSeed === null ? (
            "as submitted (download b below)"
          ) : (
            <>
              random, seed{" "}
              <span className="mono" data-testid="job-rhs-seed">
                {job.rhsSeed}
              </span>{" "}
              <span className="muted">
                (mulberry32 from this seed: entries uniform in [−1, 1), b1 first; or download b below)
              </span>
            </>
          )}
        </dd>
        <dt>Method</dt>
        <dd>
          {job.method}, tolerance {job.tol.toExponential(0)}
        </dd>
        <dt>Worst certified residual</dt>
        <dd data-testid="job-worst-residual">{formatResidual(job.worstRelResidual)}</dd>
        <dt>Created</dt>
        <dd>
          {formatTimestamp(job.createdAtMs)}
          {job.finishedAtMs !== null &&
            ` · finished after ${formatDuration(job.finishedAtMs - job.createdAtMs)}`}
        </dd>
        <dt>Job id</dt>
        <dd className="mono">{job.id}</dd>
      </dl>
      <h3>Work units</h3>
      <UnitTable units={units} />
      <h3>Residual vs iteration</h3>
      <ResidualChart key={`chart-${job.id}`} series={series} tol={job.tol} />
      <h3>Volunteers on this job</h3>
      <JobVolunteers volunteers={volunteers} />
      <h3>Solution</h3>
      <SolutionDownloads key={`downloads-${job.id}`} job={job} />
    </section>
  );
}
