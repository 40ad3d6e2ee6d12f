import { useEffect, useMemo, useState } from "react";
import { useStore } from "zustand";
import { createLocalSolveStore } from "../../state/solve/index.ts";
import { SolverClient } from "../../../workers/solver/client.ts";
import { SolveForm } from "../components/solve/SolveForm.tsx";
import { SolveRun } from "../components/solve/SolveRun.tsx";
import { JobDetail } from "../components/jobs/JobDetail.tsx";
import { JobList } from "../components/jobs/JobList.tsx";
import { SubmitJobForm } from "../components/jobs/SubmitJobForm.tsx";
import { useHasJobs, useJobs } from "../hooks/use-jobs.ts";

// One solver worker per page, created on first use of the dashboard.
let sharedStore: ReturnType<typeof createLocalSolveStore> | null = null;
function localSolveStore() {
  sharedStore ??= createLocalSolveStore(new SolverClient());
  return sharedStore;
}

/**
 * The requester's side: submit a job to the swarm and watch volunteers compute it (when the job runtime is
 * present), or solve in this tab's own solver worker.
 */
export function DashboardPage() {
  const hasJobs = useHasJobs();
  return (
    <div className="stack">
      <p className="muted" style={{ margin: 0 }}>
        Images to classify, or an ONNX model to run? The <a href="#/experts">Experts</a> view sends them
        through the swarm&apos;s mixture of experts.
      </p>
      {hasJobs && (
        <>
          <ClearErrorOnLeave />
          <SubmitJobForm />
          <JobList />
          <JobDetail />
          <h2 className="section-title">Solve in this tab (no swarm)</h2>
        </>
      )}
      <LocalSolve />
    </div>
  );
}

/** An error shown here belongs to this visit of the page: leaving the Dashboard clears it. */
function ClearErrorOnLeave() {
  const clearError = useJobs((s) => s.actions.clearError);
  useEffect(() => clearError, [clearError]);
  return null;
}

function LocalSolve() {
  const store = useMemo(() => localSolveStore(), []);
  const running = useStore(store, (s) => s.status === "running");
  const [tol, setTol] = useState(1e-8);
  return (
    <>
      <SolveForm
        disabled={running}
        onSubmit={(source, options) => {
          setTol(options.tol);
          void store.getState().submit(source, options);
        }}
      />
      <SolveRun store={store} tol={tol} />
    </>
  );
}
