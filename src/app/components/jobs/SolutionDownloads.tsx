import { useState } from "react";
import type { JobView } from "../../../state/jobs/index.ts";
import { downloadSolutionMtx, downloadSolutionsJson } from "../../downloads.ts";
import { useJobs } from "../../hooks/use-jobs.ts";

/**
 * Downloads the verified x of a finished job: one Matrix Market array per right-hand side (chosen from a
 * list when there are several, since browsers block bursts of downloads) or all of them in one JSON file.
 * The vectors are fetched from the runtime only on click: a many-right-hand-side job can be large.
 */
export function SolutionDownloads({ job }: { job: JobView }) {
  const solutions = useJobs((s) => s.actions.solutions);
  const [rhsIndex, setRhsIndex] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ready = job.status === "done";

  async function withSolutions(deliver: (xs: Float64Array[]) => void) {
    setBusy(true);
    setError(null);
    try {
      const xs = await solutions(job.id);
      if (xs.length === 0) throw new Error("the job has no verified solution");
      deliver(xs);
    } catch (e) {
      setError(`download failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  const mtx = () =>
    withSolutions((xs) => {
      const x = xs[rhsIndex];
      if (!x) throw new Error(`there is no solution ${rhsIndex + 1}`);
      downloadSolutionMtx(job.rhsCount > 1 ? `${job.name}-b${rhsIndex + 1}` : job.name, x);
    });
  const json = () =>
    withSolutions((xs) =>
      downloadSolutionsJson(job.name, xs, {
        job_id: job.id,
        kind: job.kind,
        method: job.method,
        tol: job.tol,
        worst_rel_residual: job.worstRelResidual,
        n: job.n,
      }),
    );

  return (
    <div data-testid="job-downloads">
      <div className="row">
        {job.rhsCount > 1 && (
          <select
            aria-label="solution to download"
            value={rhsIndex}
            onChange={(e) => setRhsIndex(Number(e.target.value))}
          >
            {Array.from({ length: job.rhsCount }, (_, i) => (
              <option key={i} value={i}>
                x for b{i + 1}
              </option>
            ))}
          </select>
        )}
        <button type="button" disabled={!ready || busy} onClick={() => void mtx()} data-testid="download-mtx">
          Download x (.mtx)
        </button>
        <button
          type="button"
          disabled={!ready || busy}
          onClick={() => void json()}
          data-testid="download-json"
        >
          Download {job.rhsCount > 1 ? "all x" : "x"} (.json)
        </button>
        {!ready && <span className="muted">available once every unit is verified</span>}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
