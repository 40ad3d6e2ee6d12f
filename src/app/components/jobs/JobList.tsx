import { FinishNoticeToggle } from "./FinishNoticeToggle.tsx";
import { useJobs } from "../../hooks/use-jobs.ts";
import { JobRow } from "./JobRow.tsx";

/** Every job this requester submitted, newest first; a click shows it below. */
export function JobList() {
  const jobs = useJobs((s) => s.jobs);
  const selectedJobId = useJobs((s) => s.selectedJobId);
  const select = useJobs((s) => s.actions.select);
  const newestFirst = [...jobs].sort((a, b) => b.createdAtMs - a.createdAtMs);

  return (
    <section className="card" data-testid="job-list">
      <h2>Jobs</h2>
      <FinishNoticeToggle />
      {jobs.length === 0 ? (
        <p className="muted">No jobs yet: submit one above.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Status</th>
                <th className="num">Units</th>
                <th className="num">Worst residual</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {newestFirst.map((job) => (
                <JobRow
                  key={job.id}
                  job={job}
                  selected={job.id === selectedJobId}
                  onSelect={() => select(job.id)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
