import { createStore } from "zustand/vanilla";
import type { SolveJobOptions, SolveJobSummary, SolveSource } from "../../workers/solver/api.ts";
import type { IterationUpdate } from "../core/solver/types.ts";
import type { SolverClient } from "./solver-client.ts";

export interface ResidualPoint {
  iteration: number;
  residual: number;
}

export interface LocalSolveState {
  status: "idle" | "running" | "done" | "failed";
  sourceName: string | null;
  startedAtMs: number | null;
  /** Residual history for the chart (thinned to at most MAX_POINTS). */
  history: ResidualPoint[];
  lastUpdate: IterationUpdate | null;
  /** 0..1: how far the residual has come from its start toward the tolerance (log scale). */
  progress: number;
  summary: SolveJobSummary | null;
  error: { code: string; message: string } | null;
  submit(source: SolveSource, options: SolveJobOptions): Promise<void>;
  cancel(): void;
}

const MAX_POINTS = 2000;

/** Log-scale progress from the first residual to the tolerance; iterations/maxIter when that is further. */
export function solveProgress(
  first: number,
  current: number,
  tol: number,
  iteration: number,
  maxIter: number,
) {
  const byResidual =
    first > tol && current > 0 ? Math.log(first / Math.max(current, tol)) / Math.log(first / tol) : 0;
  return Math.min(1, Math.max(0, byResidual, iteration / maxIter));
}

/** Keeps every other point once the history is full, so a long solve still draws quickly. */
function appendThinned(history: ResidualPoint[], point: ResidualPoint): ResidualPoint[] {
  const next = [...history, point];
  return next.length <= MAX_POINTS ? next : next.filter((_, i) => i % 2 === 0 || i === next.length - 1);
}

export function createLocalSolveStore(client: SolverClient, nowMs: () => number = () => Date.now()) {
  let cancelCurrent: (() => void) | null = null;
  return createStore<LocalSolveState>()((set, get) => ({
    status: "idle",
    sourceName: null,
    startedAtMs: null,
    history: [],
    lastUpdate: null,
    progress: 0,
    summary: null,
    error: null,
    async submit(source, options) {
      if (get().status === "running") return;
      set({
        status: "running",
        sourceName: source.name,
        startedAtMs: nowMs(),
        history: [],
        lastUpdate: null,
        progress: 0,
        summary: null,
        error: null,
      });
      let firstResidual: number | null = null;
      const handle = client.solve(source, options, (update) => {
        firstResidual ??= update.residual_norm;
        set((state) => ({
          lastUpdate: update,
          history: appendThinned(state.history, {
            iteration: update.iteration,
            residual: update.residual_norm,
          }),
          progress: solveProgress(
            firstResidual!,
            update.residual_norm,
            options.tol,
            update.iteration,
            options.maxIter,
          ),
        }));
      });
      cancelCurrent = handle.cancel;
      const outcome = await handle.outcome;
      cancelCurrent = null;
      if (outcome.ok)
        set({
          status: "done",
          summary: outcome.summary,
          progress: outcome.summary.converged ? 1 : get().progress,
        });
      else set({ status: "failed", error: outcome.error });
    },
    cancel() {
      cancelCurrent?.();
    },
  }));
}

export type LocalSolveStore = ReturnType<typeof createLocalSolveStore>;
