import { createStore, type StoreApi } from "zustand/vanilla";
import type { RequesterRuntime } from "../../core/jobs/requester/index.ts";
import { submissionToInput } from "./submission.ts";
import type { JobsState } from "./types.ts";
import { jobsViews } from "./views.ts";

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
};

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The Dashboard's jobs: a zustand vanilla store over the tab's RequesterRuntime. Actions called before the
 * swarm has started wait for it (`submit` resolves with the job id once the job is stored in IndexedDB).
 */
export function createJobsStore(options: { random?: () => number } = {}): JobsStore {
  let runtime: RequesterRuntime | null = null;
  let resolveRuntime: (rt: RequesterRuntime) => void = () => undefined;
  let rejectRuntime: (error: unknown) => void = () => undefined;
  const ready = new Promise<RequesterRuntime>((resolve, reject) => {
    resolveRuntime = resolve;
    rejectRuntime = reject;
  });
  ready.catch(() => undefined); // reported through lastError; callers of the actions see it too
  let timer: ReturnType<typeof setTimeout> | null = null;

  const store = createStore<JobsState>()((set, get) => ({
    jobs: [],
    units: {},
    residualSeries: {},
    volunteers: [],
    selectedJobId: null,
    lastError: null,
    actions: {
      async submit(submission) {
        try {
          const input = submissionToInput(submission, options.random);
          const rt = await ready;
          const id = await rt.submit(input);
          recompute();
          return id;
        } catch (error) {
          set({ lastError: message(error) });
          throw error;
        }
      },
      async cancel(jobId) {
        try {
          await (await ready).cancel(jobId);
          recompute();
        } catch (error) {
          set({ lastError: message(error) });
          throw error;
        }
      },
      select(jobId) {
        set({ selectedJobId: jobId });
        if (jobId !== null && get().units[jobId] === undefined) {
          void ready
            .then((rt) => rt.loadUnits(jobId))
            .then(recompute)
            .catch((error: unknown) => set({ lastError: message(error) }));
        }
      },
      async solutions(jobId) {
        return (await ready).solutions(jobId);
      },
    },
  }));

  function recompute(): void {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (runtime !== null) store.setState(jobsViews(runtime));
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
    },
    fail(error: unknown) {
      rejectRuntime(error);
      store.setState({ lastError: `jobs are unavailable: ${message(error)}` });
    },
    refresh,
    runtime: () => runtime,
  });
}
