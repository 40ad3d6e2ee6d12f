import { createStore, type StoreApi } from "zustand/vanilla";
import { isCodedError } from "../../core/base/coded-error.ts";
import type { RequesterRuntime } from "../../core/jobs/requester/index.ts";
import { submissionToInput } from "./submission.ts";
import type { JobsState } from "./types.ts";
import { jobsViews } from "./views.ts";
import type { FinishNoticesStore } from "./finish-notices.ts";

/** Views are recomputed at most this often (progress messages arrive many times a second). */
const REFRESH_MS = 150;

export type JobsStore = StoreApi<JobsState> & {
  /** Connects the store to the tab's requester once the swarm has started (see boot.ts). */
  attach(runtime: RequesterRuntime): void;
  /** The runtimes could not start (no swarm, no IndexedDB): pending and later actions fail with this. */
  fail(error: unknown): void;
  /** Recompute the views soon (throttled). */
  refresh(): void;
  runtime(): RequesterRuntime | null;
  /** "Notify me when a job finishes" (finish-notices.ts), fed every new job list; null in tests without. */
  readonly notices: FinishNoticesStore | null;
};

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** lastError and its code, from a thrown error (the message is the sentence; the code is shown small). */
const errorState = (e: unknown) => ({
  lastError: message(e),
  lastErrorCode: isCodedError(e) ? e.code : null,
});
const NO_ERROR = { lastError: null, lastErrorCode: null } as const;

/** After a reload nothing is selected: show the running job (the newest running one), else the newest. */
function defaultSelection(jobs: JobsState["jobs"]): string | null {
  const newestFirst = [...jobs].sort((p, q) => q.createdAtMs - p.createdAtMs);
  return (newestFirst.find((j) => j.status === "running") ?? newestFirst[0])?.id ?? null;
}

/**
 * The Dashboard's jobs: a zustand vanilla store over the tab's RequesterRuntime. Actions called before the
 * swarm has started wait for it (`submit` resolves with the job id once the job is stored in IndexedDB).
 */
export function createJobsStore(
  options: { random?: () => number; notices?: FinishNoticesStore } = {},
): JobsStore {
  let runtime: RequesterRuntime | null = null;
  let resolveRuntime: (rt: RequesterRuntime) => void = () => undefined;
  let rejectRuntime: (error: unknown) => void = () => undefined;
  const ready = new Promise<RequesterRuntime>((resolve, reject) => {
    resolveRuntime = resolve;
    rejectRuntime = reject;
  });
  ready.catch(() => undefined); // reported through lastError; callers of the actions see it too
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** Set when the runtimes could not start: that error stays (clearError leaves it). */
  let unavailable = false;

  const store = createStore<JobsState>()((set, get) => ({
    jobs: [],
    units: {},
    residualSeries: {},
    volunteers: [],
    jobVolunteers: {},
    selectedJobId: null,
    lastError: null,
    lastErrorCode: null,
    actions: {
      async submit(submission) {
        try {
          const input = submissionToInput(submission, options.random);
          const rt = await ready;
          const id = await rt.submit(input);
          // A successful submission answers whatever failed before: an old error must not stay beside it.
          if (!unavailable) set(NO_ERROR);
          recompute();
          return id;
        } catch (error) {
          set(errorState(error));
          throw error;
        }
      },
      async cancel(jobId) {
        try {
          await (await ready).cancel(jobId);
          recompute();
        } catch (error) {
          set(errorState(error));
          throw error;
        }
      },
      select(jobId) {
        set({ selectedJobId: jobId });
        if (jobId !== null && get().units[jobId] === undefined) {
          void ready
            .then((rt) => rt.loadUnits(jobId))
            .then(recompute)
            .catch((error: unknown) => set(errorState(error)));
        }
      },
      clearError() {
        if (!unavailable) set(NO_ERROR);
      },
      async solutions(jobId) {
        return (await ready).solutions(jobId);
      },
      async certifiedSolutions(jobId) {
        return (await ready).certifiedSolutions(jobId);
      },
      async rightHandSides(jobId) {
        return (await ready).rightHandSides(jobId);
      },
      async deleteJob(jobId) {
        await (await ready).deleteJob(jobId);
        if (get().selectedJobId === jobId) set({ selectedJobId: null });
        recompute();
      },
      async exportJob(jobId, pageUrl) {
        return (await ready).exportJob(jobId, pageUrl);
      },
    },
  }));

  function recompute(): void {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (runtime === null) return;
    store.setState(jobsViews(runtime));
    options.notices?.observe(store.getState().jobs);
  }

  function refresh(): void {
    if (timer !== null) return;
    timer = setTimeout(recompute, REFRESH_MS);
  }

  return Object.assign(store, {
    attach(rt: RequesterRuntime) {
      runtime = rt;
      resolveRuntime(rt);
      recompute();
      const state = store.getState();
      if (state.selectedJobId === null) {
        const id = defaultSelection(state.jobs);
        if (id !== null) state.actions.select(id);
      }
    },
    fail(error: unknown) {
      unavailable = true;
      rejectRuntime(error);
      store.setState({ lastError: `jobs are unavailable: ${message(error)}`, lastErrorCode: null });
    },
    refresh,
    runtime: () => runtime,
    notices: options.notices ?? null,
  });
}
