import { createStore } from "zustand/vanilla";
import type {
  SolveJobEvent,
  SolveJobOptions,
  SolveJobOutcome,
  SolveJobSummary,
  SolveSource,
} from "../../../workers/solver/api.ts";
import type { IterationUpdate } from "../../core/solver/types.ts";
import { outcomeOfRejection, type SolveHandle, type SolverClient } from "../../../workers/solver/client.ts";
import {
  describeBatch,
  isUpdateErrorCode,
  mergeBatches,
  parseUpdateInput,
  type ChartMarker,
  type QueuedBatch,
  type UpdateLogEntry,
} from "./updates.ts";

export type { ChartMarker, UpdateLogEntry } from "./updates.ts";

export interface ResidualPoint {
  iteration: number;
  residual: number;
  /** The stage that reported it (e.g. "cg+jacobi", "direct"): one chart line per stage. */
  stage: string;
  /** The run's certified residual (recomputed in f64 at the end), not an iteration's estimate. */
  certified?: boolean;
}

export interface LocalSolveState {
  status: "idle" | "running" | "done" | "failed";
  /** While running: iterating, or solving the updated system cold to measure what the warm start saved. */
  phase: "solving" | "cold" | null;
  sourceName: string | null;
  startedAtMs: number | null;
  /** Residual history for the chart (thinned to at most MAX_POINTS); continues across warm re-solves. */
  history: ResidualPoint[];
  /** Where updates took effect, in the chart's iterations. */
  markers: ChartMarker[];
  lastUpdate: IterationUpdate | null;
  /** 0..1: how far the residual has come from its start toward the tolerance (log scale). */
  progress: number;
  summary: SolveJobSummary | null;
  error: { code: string; message: string } | null;
  /** Size of the system being solved (for checking update indices), and whether updates reach it live. */
  n: number | null;
  liveUpdates: boolean;
  updateLog: UpdateLogEntry[];
  updateError: { code: string; message: string } | null;
  /** After updates: also solve the updated system cold to count the iterations saved. */
  compareCold: boolean;
  submit(source: SolveSource, options: SolveJobOptions): Promise<void>;
  cancel(): void;
  /** Lines "i j value" (A) / "i value" (b), 1-based: applied to the running solve, or re-solved warm. */
  applyUpdate(text: string, mode: "set" | "add"): Promise<void>;
  setCompareCold(on: boolean): void;
}

const MAX_POINTS = 2000;

/** One run's feed into the chart (see streamTo). */
interface RunStream {
  /** Chart iteration of the run's iteration 0. */
  readonly base: number;
  /** The stage of the last update taken (null before any). */
  lastStage(): string | null;
  close(): void;
  onUpdate(u: IterationUpdate): void;
}

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

/**
 * Keeps every other point once the history is full, so a long solve still draws quickly; never a
 * certificate, nor the last point.
 */
function appendThinned(history: ResidualPoint[], point: ResidualPoint): ResidualPoint[] {
  const next = [...history, point];
  return next.length <= MAX_POINTS
    ? next
    : next.filter((p, i) => i % 2 === 0 || i === next.length - 1 || p.certified === true);
}

/** The certified end of a run, drawn on the line of the stage it ended in. */
function certifiedPoint(summary: SolveJobSummary, runBase: number, lastStage: string | null): ResidualPoint {
  return {
    iteration: runBase + summary.iterations,
    residual: summary.relResidual,
    stage: lastStage ?? summary.methodPath.at(-1) ?? "residual",
    certified: true,
  };
}

export function createLocalSolveStore(client: SolverClient, nowMs: () => number = () => Date.now()) {
  let current: SolveHandle | null = null;
  /** Aborts the current run (the Cancel button); a fresh one per run. */
  let stop: AbortController | null = null;
  let jobOptions: SolveJobOptions | null = null;
  /** Chart iteration where the current run's iteration 0 sits (warm re-solves continue the chart). */
  let base = 0;
  /** Batches the running solve did not take: applied together by a warm re-solve when it ends. */
  let queue: QueuedBatch[] = [];

  return createStore<LocalSolveState>()((set, get) => {
    const log = (seq: number, patch: Partial<UpdateLogEntry>): void =>
      set((s) => ({ updateLog: s.updateLog.map((e) => (e.seq === seq ? { ...e, ...patch } : e)) }));

    const onEvent = (e: SolveJobEvent): void => {
      if (e.type === "system") set({ n: e.n, liveUpdates: e.liveUpdates });
      else if (e.type === "cold_start") set({ phase: "cold" });
      else if (e.type === "update_applied") {
        const iteration = base + e.iteration;
        set((s) => ({ markers: [...s.markers, { iteration, label: `update #${e.seq}` }] }));
        log(e.seq, {
          status: "applied",
          message:
            `applied at iteration ${iteration}; residual on the updated system ` +
            `${e.residualAfter.toExponential(2)} (a cold start has 1)`,
        });
      } else log(e.seq, { status: "rejected", message: `${e.code}: ${e.message}` });
    };

    /** Starts one run (a solve or a warm re-solve) and follows it to its end, streaming into the chart. */
    const follow = async (stream: RunStream, start: (signal: AbortSignal) => SolveHandle): Promise<void> => {
      const controller = new AbortController();
      stop = controller;
      const handle = start(controller.signal);
      current = handle;
      const outcome: SolveJobOutcome = await handle.outcome.catch(outcomeOfRejection);
      current = null;
      stop = null;
      stream.close();
      if (outcome.ok) {
        const { summary } = outcome;
        const end = certifiedPoint(summary, stream.base, stream.lastStage());
        base = end.iteration;
        set((s) => ({
          status: "done",
          phase: null,
          summary,
          progress: summary.converged ? 1 : s.progress,
          history: appendThinned(s.history, end),
        }));
      } else if (isUpdateErrorCode(outcome.error.code) && get().summary !== null) {
        // The warm re-solve refused its batch: the previous result stands.
        set({ status: "done", phase: null, updateError: outcome.error });
      } else set({ status: "failed", phase: null, error: outcome.error });
      flushQueue();
    };

    /**
     * The chart's feed for one run. Its iterations are offset by where the run starts on the chart, fixed
     * when the run starts: an update read after the run ended must not be shifted again by the next
     * run's offset (that drew the last point at twice the iterations). Updates after the run's outcome
     * are dropped: its certified end is drawn instead.
     */
    const streamTo = (tol: number, maxIter: number): RunStream => {
      const runBase = base;
      let first: number | null = null;
      let closed = false;
      let lastStage: string | null = null;
      return {
        base: runBase,
        lastStage: () => lastStage,
        close: () => {
          closed = true;
        },
        onUpdate: (u: IterationUpdate): void => {
          if (closed) return;
          first ??= u.residual_norm;
          const iteration = runBase + u.iteration;
          // An empty label is the solve's final report when no stage ran (b = 0): its end is certified.
          if (u.method !== "") lastStage = u.method;
          set((s) => ({
            lastUpdate: { ...u, iteration },
            history:
              u.method === ""
                ? s.history
                : appendThinned(s.history, { iteration, residual: u.residual_norm, stage: u.method }),
            progress: solveProgress(first!, u.residual_norm, tol, u.iteration, maxIter),
          }));
        },
      };
    };

    /** Re-solves warm from the kept x with `batch` applied (the worker keeps A, b and x). */
    const resolveWarm = (batch: QueuedBatch): void => {
      if (jobOptions === null) return;
      const options = { ...jobOptions, compareCold: get().compareCold };
      set({ status: "running", phase: "solving", progress: 0, updateError: null, error: null });
      log(batch.seq, { status: "posted", message: "re-solving warm from the last x" });
      const stream = streamTo(options.tol, options.maxIter);
      void follow(stream, (signal) =>
        client.resolveWarm(batch.updates, batch.seq, options, { signal, onUpdate: stream.onUpdate, onEvent }),
      );
    };

    function flushQueue(): void {
      if (queue.length === 0 || current !== null) return;
      const s = get();
      const stopped = s.status !== "done" || s.summary === null || s.summary.reason === "cancelled";
      if (stopped) {
        for (const q of queue)
          log(q.seq, { status: "rejected", message: "not applied: the solve did not finish" });
        queue = [];
        return;
      }
      const batch = mergeBatches(queue);
      queue = [];
      resolveWarm(batch);
    }

    return {
      status: "idle",
      phase: null,
      sourceName: null,
      startedAtMs: null,
      history: [],
      markers: [],
      lastUpdate: null,
      progress: 0,
      summary: null,
      error: null,
      n: null,
      liveUpdates: false,
      updateLog: [],
      updateError: null,
      compareCold: true,
      async submit(source, options) {
        if (get().status === "running") return;
        jobOptions = { ...options, keepSystem: true };
        base = 0;
        queue = [];
        set({
          status: "running",
          phase: "solving",
          sourceName: source.name,
          startedAtMs: nowMs(),
          history: [],
          markers: [],
          lastUpdate: null,
          progress: 0,
          summary: null,
          error: null,
          n: null,
          liveUpdates: false,
          updateLog: [],
          updateError: null,
        });
        const opts = { ...jobOptions, compareCold: get().compareCold };
        const stream = streamTo(options.tol, options.maxIter);
        await follow(stream, (signal) =>
          client.solve(source, opts, { signal, onUpdate: stream.onUpdate, onEvent }),
        );
      },
      cancel() {
        stop?.abort();
      },
      setCompareCold(on) {
        set({ compareCold: on });
      },
      async applyUpdate(text, mode) {
        const s = get();
        set({ updateError: null });
        if (s.status === "idle" || (s.status === "failed" && s.summary === null) || jobOptions === null) {
          set({
            updateError: { code: "no_solve", message: "solve a system first, then update its entries" },
          });
          return;
        }
        const parsed = parseUpdateInput(text, s.n, mode);
        if (!parsed.ok) return set({ updateError: parsed.error });
        const seq = client.nextSeq();
        const what = describeBatch(parsed.updates, mode);
        const entry: UpdateLogEntry = { seq, what, status: "posted", message: "" };
        set((st) => ({ updateLog: [...st.updateLog, entry] }));
        if (current === null) return resolveWarm({ seq, updates: parsed.updates });
        log(seq, { message: "posted to the running solve" });
        const r = await current.post(parsed.updates, seq);
        if (r.status !== "not_taken") return; // the event already logged it
        const why =
          r.why === "no_shared_memory"
            ? "this page has no shared memory"
            : r.why === "too_large"
              ? "the batch is larger than the live mailbox"
              : "the solve had finished";
        log(seq, { status: "queued", message: `${why}: applied by a warm re-solve` });
        queue.push({ seq, updates: parsed.updates });
        flushQueue();
      },
    };
  });
}

export type LocalSolveStore = ReturnType<typeof createLocalSolveStore>;
