import { useMemo, useState } from "react";
import { useStore } from "zustand";
import { createLocalSolveStore } from "../../state/local-solve-store.ts";
import { SolverClient } from "../../state/solver-client.ts";
import { SolveForm } from "../components/SolveForm.tsx";
import { SolveRun } from "../components/SolveRun.tsx";

// One solver worker per page, created on first use of the dashboard.
let sharedStore: ReturnType<typeof createLocalSolveStore> | null = null;
function localSolveStore() {
  sharedStore ??= createLocalSolveStore(new SolverClient());
  return sharedStore;
}

/** The requester's side: submit a solve and watch it run in this tab's solver worker. */
export function DashboardPage() {
  const store = useMemo(localSolveStore, []);
  const running = useStore(store, (s) => s.status === "running");
  const [tol, setTol] = useState(1e-8);
  return (
    <div style={{ display: "grid", gap: 16 }}>
      <SolveForm
        disabled={running}
        onSubmit={(source, options) => {
          setTol(options.tol);
          void store.getState().submit(source, options);
        }}
      />
      <SolveRun store={store} tol={tol} />
    </div>
  );
}
