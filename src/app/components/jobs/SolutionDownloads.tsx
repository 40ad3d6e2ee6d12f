import { useState } from "react";
import type { JobView } from "../../../state/jobs/index.ts";
import { downloadRhsMtx, downloadSolutionMtx, downloadSolutionsJson } from "../../downloads.ts";
import { useJobs } from "../../hooks/use-jobs.ts";

/**
 * Downloads the verified x of a finished job: one Matrix Market array per right-hand side (chosen from a
 * list when there are several, since browsers block bursts of downloads) or all of them in one JSON file
 * with the certified residual of each; and b itself (any time: random ones cannot be checked without it).
 * The vectors are fetched from the runtime only on click: a many-right-hand-side job can be large.
 */
export function SolutionDownloads({ job }: { job: JobView }) {
  const solutions = useJobs((s) => s.actions.solutions);
  const certifiedSolutions = useJobs((s) => s.actions.certifiedSolutions);
  const rightHandSides = useJobs((s) => s.actions.rightHandSides);
  const [rhsIndex, setRhsIndex] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ready = job.status === "done";

  async function withBusy(deliver: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await deliver();
    } catch (e) {
      setError(`download failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }
  const fileName = job.rhsCount > 1 ? `${job.name}-b${rhsIndex + 1}` : job.name;

  const mtx = () =>
    withBusy(async () => {
      const x = (await solutions(job.id))[rhsIndex];
      if (!x) throw new Error(`there is no solution ${rhsIndex + 1}`);
      downloadSolutionMtx(fileName, x);
    });
  const rhs = () =>
    withBusy(async () => {
      const b = (await rightHandSides(job.id))[rhsIndex];
      if (!b) throw new Error(`there is no right-hand side ${rhsIndex + 1}`);
      downloadRhsMtx(fileName, b);
    });
  const json = () =>
    withBusy(async () => {
      const { xs, relResiduals } = await certifiedSolutions(job.id);
      if (xs.length === 0) throw new Error("the job has no verified solution");
      downloadSolutionsJson(job.name, xs, {
        job_id: job.id,
        kind: job.kind,
        method: job.method,
        tol: job.tol,
        worst_rel_residual: job.worstRelResidual,
        // rel_residuals[k] = ‖b_k − A x_k‖/‖b_k‖, recomputed by this tab in f64.
        rel_residuals: relResiduals,
        ...(job.rhsSeed === null ? {} : { rhs_seed: job.rhsSeed }),
        n: job.n,
      });
    });

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
                b{i + 1} and its x
              </option>
            ))}
          </select>
        )}
        <button type="button" disabled={busy} onClick={() => void rhs()} data-testid="download-rhs">
          Download b (.mtx)
        </button>
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
        {!ready && <span className="muted">x is available once every unit is verified</span>}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
