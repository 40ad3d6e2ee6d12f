import { useMemo } from "react";
import { useStore } from "zustand";
import { stageSeries, type LocalSolveStore } from "../../../state/solve/index.ts";
import { downloadSolutionJson, downloadSolutionMtx } from "../../downloads.ts";
import { formatDuration } from "../../format.ts";
import { ErrorMessage } from "../ErrorMessage.tsx";
import { ResidualChart } from "./ResidualChart.tsx";
import { UpdateEntries } from "./UpdateEntries.tsx";
import { UpdatesSummary } from "./UpdatesSummary.tsx";

/** Live view of the current solve: progress, residual chart, then the certified result and downloads. */
export function SolveRun({ store, tol }: { store: LocalSolveStore; tol: number }) {
  const state = useStore(store);
  const series = useMemo(() => stageSeries(state.history), [state.history]);
  if (state.status === "idle") return null;
  const { summary, lastUpdate, error } = state;
  return (
    <section className="card" data-testid="solve-run" data-status={state.status}>
      <h2>
        {state.sourceName} · {state.status}
      </h2>
      <progress value={state.progress} max={1} aria-label="progress" />
      <p className="muted" data-testid="solve-live">
        {state.phase === "cold"
          ? "solving the updated system cold (from x = 0) to count the iterations the warm start saved…"
          : lastUpdate
            ? `${lastUpdate.method || (summary?.methodPath.at(-1) ?? "solve")}: iteration ${lastUpdate.iteration}, residual ${lastUpdate.residual_norm.toExponential(2)}` +
              (Number.isFinite(lastUpdate.convergence_rate)
                ? `, rate ${lastUpdate.convergence_rate.toFixed(4)} per iteration`
                : "")
            : state.status === "running"
              ? "preparing the system…"
              : ""}
      </p>
      {state.status === "running" && (
        <button type="button" onClick={() => state.cancel()}>
          Cancel
        </button>
      )}
      <ResidualChart series={series} tol={tol} markers={state.markers} path />
      {error && <ErrorMessage message={error.message} code={error.code} testId="solve-error" />}
      {summary && (
        <>
          <dl className="kv" data-testid="solve-summary">
            <dt>Outcome</dt>
            <dd data-testid="solve-outcome">
              {summary.converged ? "converged" : `did not converge (${summary.reason})`}
            </dd>
            <dt>Certified residual</dt>
            <dd data-testid="solve-residual">
              ‖b − Ax‖/‖b‖ = {summary.relResidual.toExponential(3)} (recomputed in f64, independently of the
              iteration)
            </dd>
            <dt>Path</dt>
            <dd>{summary.methodPath.join(" → ")}</dd>
            <dt>Iterations</dt>
            <dd data-testid="solve-iterations">{summary.iterations}</dd>
            {summary.updates && <UpdatesSummary updates={summary.updates} />}
            <dt>Backend</dt>
            <dd>
              {summary.backend}, {summary.threads} thread{summary.threads === 1 ? "" : "s"}
            </dd>
            <dt>Time</dt>
            <dd>
              {formatDuration(summary.ms)} solving, {formatDuration(summary.setupMs)} reading and setting up
            </dd>
            <dt>System</dt>
            <dd>
              n = {summary.n.toLocaleString()}, nnz = {summary.nnz.toLocaleString()}
              {summary.rhsIsAOnes ? "; no b given, so b = A·1 (x should be all ones)" : ""}
            </dd>
          </dl>
          {summary.notes.length > 0 && <p className="muted">{summary.notes.join("; ")}</p>}
          <div className="row" style={{ marginTop: 12 }}>
            <button type="button" onClick={() => downloadSolutionMtx(summary.name, summary.x)}>
              Download x (.mtx)
            </button>
            <button
              type="button"
              onClick={() =>
                downloadSolutionJson(summary.name, summary.x, {
                  converged: summary.converged,
                  rel_residual: summary.relResidual,
                  iterations: summary.iterations,
                  method: summary.methodPath,
                  backend: summary.backend,
                })
              }
            >
              Download x (.json)
            </button>
          </div>
        </>
      )}
      <UpdateEntries store={store} />
    </section>
  );
}
