import { createStore, type StoreApi } from "zustand/vanilla";
import type { ClassifyFilesOptions, ExpertsState, ManifestView } from "./types.ts";

/** What the store's actions call once the tab's experts runtime runs (jobs.ts). */
export interface ExpertsJobRunner {
  prefetch(): void;
  classifyTestSet(count: number): Promise<void>;
  classifyFiles(files: readonly File[], options: ClassifyFilesOptions): Promise<void>;
  runGeneric(model: File, batch: File): Promise<void>;
  genericOutputs(): ReadonlyMap<string, { readonly data: Float32Array; readonly cols: number }> | null;
}

export type ExpertsStore = StoreApi<ExpertsState> & {
  /** Connects the actions to the runtime (actions called before wait for it). */
  attach(runner: ExpertsJobRunner): void;
  /** The runtime could not start (no swarm): pending and later actions fail with this. */
  fail(error: unknown): void;
};

export const INITIAL_MANIFEST: ManifestView = {
  status: "loading",
  error: null,
  classes: [],
  experts: 0,
  topK: 0,
  accuracy: null,
  expertBytes: 0,
};

/**
 * The experts view's zustand vanilla store. Jobs report failures in their own view (classify.error,
 * generic.error), so the actions resolve once the job has finished either way; they reject only when the
 * runtime itself never started.
 */
export function createExpertsStore(initial: { readonly hostAnyModel?: boolean } = {}): ExpertsStore {
  let runner: ExpertsJobRunner | null = null;
  let resolveRunner: (r: ExpertsJobRunner) => void = () => undefined;
  let rejectRunner: (error: unknown) => void = () => undefined;
  const ready = new Promise<ExpertsJobRunner>((resolve, reject) => {
    resolveRunner = resolve;
    rejectRunner = reject;
  });
  ready.catch(() => undefined);

  const store = createStore<ExpertsState>()(() => ({
    manifest: INITIAL_MANIFEST,
    classify: null,
    generic: null,
    revisedJobs: [],
    router: null,
    host: null,
    hostedNames: {},
    provider: null,
    hostAnyModel: initial.hostAnyModel ?? false,
    actions: {
      setHostAnyModel(on) {
        store.setState({ hostAnyModel: on });
      },
      prefetch() {
        ready.then((r) => r.prefetch()).catch(() => undefined);
      },
      async classifyTestSet(count) {
        await (await ready).classifyTestSet(count);
      },
      async classifyFiles(files, options) {
        await (await ready).classifyFiles(files, options);
      },
      async runGeneric(model, batch) {
        await (await ready).runGeneric(model, batch);
      },
      genericOutputs() {
        return runner?.genericOutputs() ?? null;
      },
    },
  }));

  return Object.assign(store, {
    attach(r: ExpertsJobRunner) {
      runner = r;
      resolveRunner(r);
    },
    fail(error: unknown) {
      rejectRunner(error);
      const message = error instanceof Error ? error.message : String(error);
      store.setState({ manifest: { ...store.getState().manifest, status: "error", error: message } });
    },
  });
}
