import { useState } from "react";
import type { JobView } from "../../../state/jobs/index.ts";
import { useJobs } from "../../hooks/use-jobs.ts";
import { saveFile } from "../../save-file.ts";

/**
 * Cancel (running), export as JSON and delete (finished) a job. Delete asks first: it removes the job, its
 * units, results and inputs from this browser for good.
 */
export function JobActions({ job }: { job: JobView }) {
  const actions = useJobs((s) => s.actions);
  const [error, setError] = useState<string | null>(null);
  const running = job.status === "running";

  async function run(what: string, action: () => Promise<void>) {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(`${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const onExport = () =>
    run("export", async () => {
      const page = `${location.origin}${location.pathname}#/dashboard`;
      const doc = await actions.exportJob(job.id, page);
      saveFile(
        `${job.name || "job"}-${job.id.slice(0, 8)}.json`,
        JSON.stringify(doc, null, 2),
        "application/json",
      );
    });

  const onDelete = () => {
    if (!window.confirm(`Delete job “${job.name}” and everything stored for it in this browser?`)) return;
    void run("delete", () => actions.deleteJob(job.id));
  };

  return (
    <>
      <div className="row">
        {running && (
          <button
            type="button"
            onClick={() => void run("cancel", () => actions.cancel(job.id))}
            data-testid="job-cancel"
          >
            Cancel job
          </button>
        )}
        <button type="button" onClick={() => void onExport()} data-testid="job-export">
          Export JSON
        </button>
        <button
          type="button"
          onClick={onDelete}
          disabled={running}
          title={running ? "cancel the job first" : "remove the job and its data from this browser"}
          data-testid="job-delete"
        >
          Delete
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="job-action-error">
          {error}
        </p>
      )}
    </>
  );
}
