import type { StoreApi } from "zustand/vanilla";
import {
  argmaxRows,
  ExpertRouter,
  type ExpertHostRecord,
  type RouterEvents,
  type TestFirstBatchTo,
} from "../../core/experts/router/index.ts";
import type { ExpertLink } from "../../core/experts/link/index.ts";
import {
  ExpertError,
  type FetchedManifest,
  manifestSource,
  type ModelRunner,
} from "../../core/experts/models/index.ts";
import type { ModelVariant } from "../../core/protocol/manifest.ts";
import { runGenericJob } from "./generic-job.ts";
import { ExpertsInputError, testSetLoader, uploadedInput, type ClassifyInput } from "./inputs.ts";
import type { ExpertsJobRunner } from "./store.ts";
import { emptyClassify, outcome, patchClassify, toJobError } from "./classify-view.ts";
import type { ClassifyFilesOptions, ClassifyJobView, ExpertsState } from "./types.ts";

export interface ExpertsJobsDeps {
  readonly store: StoreApi<ExpertsState>;
  /** The tab's expert link (shared with its ExpertHost, so its own id is a volunteer through the loopback). */
  readonly link: ExpertLink;
  /** The requester's own runner: the gate, canaries, fallback, the generic job, the whole-graph reference. */
  readonly runner: ModelRunner;
  /** Resolves with the site's manifest, or null when the site has none. */
  readonly manifest: Promise<FetchedManifest | null>;
  /** How long a batch waits for a volunteer still loading its expert before this tab computes it itself
   *  (the router's warmWaitMs). */
  readonly hostWaitMs?: number;
  readonly variant?: ModelVariant;
  readonly fetch?: typeof fetch;
  /** Where the router's reputation records and bans live across sessions (IndexedDB); none: this session
   *  only. */
  readonly hostRecords?: ExpertHostStore | null;
  /** Whether new hosts get sample batches checked in full before the first job (router qualifyWith);
   *  default true. */
  readonly qualifyHosts?: boolean;
  /** Called when this tab starts wanting expert hosts (prefetch, a job): the overlay recruits them now. */
  readonly onWantsHosts?: () => void;
}

/** The router's memory of hosts (storage/expert-host-repository.ts). */
export interface ExpertHostStore {
  load(): Promise<ExpertHostRecord[]>;
  save(records: readonly ExpertHostRecord[]): Promise<void>;
}

const UI_UPDATE_MS = 120;
/** Test images given to the router as qualification samples (random rows of them go to new hosts). */
const QUALIFICATION_SAMPLES = 1_000;
/** How long a job waits for the volunteers just offered to answer their probe (placement needs them). */
const PROBE_WAIT_MS = 3_000;
/** Finished classify jobs remembered for their revisions (the router keeps as many: keepFinishedJobs). */
const KEPT_FINISHED_JOBS = 4;

/**
 * The requester side of the experts view: a classify job through the swarm router (created on the first
 * job, then kept: its hosts stay warm and its statistics accumulate), and the generic ONNX job, sharded
 * across the volunteers by the same router (ExpertRouter.runModel: every volunteer that loads the model
 * takes batches, verified by canaries and replication; this tab computes what they cannot). One job of each
 * kind at a time. Every failure ends in the job's view as { code, message }, never as a crash. `mode` says
 * whether any row of the generic job ran on a volunteer ("swarm") or all ran in this tab ("local").
 */
export class ExpertsJobs implements ExpertsJobRunner {
  readonly #d: Required<Omit<ExpertsJobsDeps, "fetch" | "onWantsHosts">> & { fetch: typeof fetch };
  readonly #onWantsHosts: () => void;
  #wantsHosts = false;
  /** The router's id of the classify job the view shows (a revision of it patches the view). */
  #viewJobId: string | null = null;
  /** The last finished classify jobs by router id (what a revision of one needs to describe it). */
  readonly #finished = new Map<string, { id: number; description: string; labels: Uint8Array | null }>();
  #router: Promise<ExpertRouter> | null = null;
  #routerInstance: ExpertRouter | null = null;
  #seq = 0;
  #classifyBusy = false;
  #genericBusy = false;
  #genericOutputs: Map<string, { data: Float32Array; cols: number }> | null = null;
  #lastInput: ClassifyInput | null = null;
  #statsTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #testSet: (count: number) => Promise<ClassifyInput>;

  constructor(deps: ExpertsJobsDeps) {
    this.#d = {
      hostWaitMs: 15_000,
      variant: "int8",
      hostRecords: null,
      qualifyHosts: true,
      ...deps,
      fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
    };
    this.#testSet = testSetLoader(this.#d.fetch);
    this.#onWantsHosts = deps.onWantsHosts ?? (() => undefined);
  }

  /** Whether this tab wants expert hosts: the Experts view prefetched, or a job ran (the overlay recruits). */
  get wantsHosts(): boolean {
    return this.#wantsHosts || this.#routerInstance !== null;
  }

  #wantHosts(): void {
    if (this.#wantsHosts) return;
    this.#wantsHosts = true;
    this.#onWantsHosts();
  }

  get router(): ExpertRouter | null {
    return this.#routerInstance;
  }

  /** The inputs of the last classify job (the test hook compares them against the whole graph). */
  get lastInput(): ClassifyInput | null {
    return this.#lastInput;
  }

  /** `testFirstBatchTo`: TEST ONLY, passed by the ?test=1 hook alone (the store's action, which the UI
   *  calls, has no such parameter): see ClassifyOptions.testFirstBatchTo. */
  classifyTestSet(count: number, testFirstBatchTo?: TestFirstBatchTo): Promise<void> {
    return this.#classify("test-set", () => this.#testSet(count), testFirstBatchTo);
  }

  classifyFiles(files: readonly File[], options: ClassifyFilesOptions): Promise<void> {
    return this.#classify("upload", () => uploadedInput(files, options.invert));
  }

  genericOutputs(): ReadonlyMap<string, { readonly data: Float32Array; readonly cols: number }> | null {
    return this.#genericOutputs;
  }

  /** Prefetch: the router made now, not at the first job (ExpertRouter.prefetch), and the test set (the
   *  form's default input: 4.4 MB, downloaded and inflated once per tab) fetched while the person looks at
   *  the form; measured 0.3–2.8 s of a first job's time before (bench:experts, timeline inputsMs). */
  prefetch(): void {
    if (this.#closed) return;
    // Recruit hosts now, while the router loads its gate: they link, are offered experts as they open
    // (volunteersChanged) and load them before the first job.
    this.#wantHosts();
    const samples = this.#testSet(QUALIFICATION_SAMPLES);
    samples.catch(() => undefined); // a failure is retried, and shown, by the job that needs it
    this.#ensureRouter()
      .then((router) => {
        router.prefetch(this.#d.link.connectedPeerIds());
        // New hosts earn trust on test images while the person looks at the form (qualification.ts).
        if (this.#d.qualifyHosts)
          void samples.then((s) => router.qualifyWith(s.pixels, s.rows)).catch(() => undefined);
      })
      .catch(() => undefined); // the first job tries again and shows the error
  }

  /** The connected volunteers changed: the router re-places experts (no-op before the first job or
   *  prefetch). */
  volunteersChanged(): void {
    this.#routerInstance?.setVolunteers(this.#d.link.connectedPeerIds());
  }

  /** Predictions of the single-process whole-graph model (moe-V) on `pixels`, on this tab's runner. */
  async wholeGraphPredictions(pixels: Float32Array, rows: number): Promise<Int32Array> {
    const fetched = await this.#d.manifest;
    if (!fetched) throw new ExpertError("model_missing", "this site has no model manifest");
    const loaded = await this.#d.runner.load(manifestSource(fetched, "moe", this.#d.variant));
    const classes = fetched.manifest.classes.length;
    const cols = fetched.manifest.inputSize;
    const logits = new Float32Array(rows * classes);
    for (let at = 0; at < rows; at += 1024) {
      const n = Math.min(1024, rows - at);
      const out = await this.#d.runner.run(loaded.sha256, pixels.subarray(at * cols, (at + n) * cols), n);
      const first = out.outputs[loaded.outputNames[0] ?? ""];
      if (!first) throw new ExpertError("runtime_failed", "the whole-graph model gave no output");
      logits.set(first.data, at * classes);
    }
    return argmaxRows(logits, classes);
  }

  close(): void {
    this.#closed = true;
    if (this.#statsTimer !== null) clearTimeout(this.#statsTimer);
    this.#routerInstance?.close();
  }

  // ---- classify ---------------------------------------------------------------------------------------------

  async #classify(
    source: ClassifyJobView["source"],
    load: () => Promise<ClassifyInput>,
    testFirstBatchTo?: TestFirstBatchTo,
  ): Promise<void> {
    const store = this.#d.store;
    // The running job keeps its view; the new one is refused (the UI disables Run meanwhile).
    if (this.#classifyBusy) throw new ExpertError("unavailable", "a classify job is already running");
    this.#classifyBusy = true;
    this.#wantHosts();
    const id = ++this.#seq;
    const started = performance.now();
    store.setState({ classify: emptyClassify(id, source) });
    try {
      const input = await load();
      const inputsMs = performance.now() - started;
      this.#lastInput = input;
      patchClassify(store, id, {
        rows: input.rows,
        description: input.description,
        phase: "loading-models",
        invertedCount: input.invertedCount,
        labels: input.labels,
      });
      if (!(await this.#d.manifest)) throw noModels();
      const router = await this.#ensureRouter();
      router.setVolunteers(this.#d.link.connectedPeerIds());
      const routerMs = performance.now() - started;
      patchClassify(store, id, { phase: "waiting-for-hosts" });
      // Only until placement knows who hosts: the job then starts while volunteers load their experts
      // (pipelined), and a batch waits for a host still loading rather than being computed here (the
      // router's warmWaitMs = hostWaitMs).
      await router.waitForProbes(PROBE_WAIT_MS);
      const probesMs = performance.now() - started;
      patchClassify(store, id, { phase: "running" });
      let lastUpdate = 0;
      const result = await router.classify(input.pixels, input.rows, {
        onProgress: (p) => {
          const now = performance.now();
          if (now - lastUpdate < UI_UPDATE_MS && p.rowsDone < p.rows) return;
          lastUpdate = now;
          patchClassify(store, id, { rowsDone: p.rowsDone });
        },
        ...(testFirstBatchTo ? { testFirstBatchTo } : {}),
      });
      this.#viewJobId = result.jobId;
      this.#finished.set(result.jobId, { id, description: input.description, labels: input.labels });
      if (this.#finished.size > KEPT_FINISHED_JOBS) {
        this.#finished.delete(this.#finished.keys().next().value!);
      }
      patchClassify(store, id, {
        phase: "done",
        rowsDone: result.rows,
        routerJobId: result.jobId,
        ...outcome(input, result),
        rowsPerExpert: result.rowsPerExpert,
        chosenPerExpert: result.chosenPerExpert,
        images: { pixels: input.pixels, names: input.names },
        gateMs: result.gateMs,
        timeline: { inputsMs, routerMs, probesMs, router: result.timeline },
        elapsedMs: performance.now() - started,
      });
      this.#publishStats();
    } catch (error) {
      patchClassify(store, id, {
        phase: "failed",
        error: toJobError(error, "classify"),
        elapsedMs: performance.now() - started,
      });
    } finally {
      this.#classifyBusy = false;
    }
  }

  /** The tab's one router (two would send competing host-requests to the same volunteers): with the
   *  site's gate and experts when it has a manifest, else for generic jobs only. */
  #ensureRouter(): Promise<ExpertRouter> {
    this.#router ??= (async () => {
      const fetched = await this.#d.manifest;
      const mixture = fetched
        ? {
            gate: manifestSource(fetched, "gate", this.#d.variant),
            experts: Array.from({ length: fetched.manifest.experts }, (_, e) =>
              manifestSource(fetched, `expert-${e}`, this.#d.variant),
            ),
            classes: fetched.manifest.classes.length,
          }
        : {};
      const stored = this.#d.hostRecords;
      // A store that cannot be read (private mode, quota) leaves the router with this session's memory only.
      const hostRecords = stored ? await stored.load().catch(() => []) : [];
      const router = new ExpertRouter({
        link: this.#d.link,
        local: this.#d.runner,
        ...mixture,
        warmWaitMs: this.#d.hostWaitMs,
        hostRecords,
        ...(stored
          ? {
              onHostRecords: (changed: readonly ExpertHostRecord[]) => {
                stored.save(changed).catch((error: unknown) => {
                  console.warn("experts: could not store the hosts' reputation and bans", error);
                });
              },
            }
          : {}),
      });
      try {
        await router.init();
      } catch (error) {
        router.close();
        throw error;
      }
      router.on("stats", () => this.#scheduleStats());
      router.on("revised", (revision) => this.#revised(revision));
      this.#routerInstance = router;
      return router;
    })();
    this.#router.catch(() => (this.#router = null)); // the next job tries again
    return this.#router;
  }

  /** A finished job held outputs of a host banned since: the router recomputed them; the view shows the new
   *  predictions and says so. */
  #revised(revision: RouterEvents["revised"]): void {
    const store = this.#d.store;
    const flag = { bannedHosts: revision.bannedHosts, rowsRecomputed: revision.rowsRecomputed };
    const view = store.getState().classify;
    if (view && revision.jobId === this.#viewJobId && this.#lastInput && "predictions" in revision.result) {
      patchClassify(store, view.id, { ...outcome(this.#lastInput, revision.result), revised: flag });
    }
    const done = this.#finished.get(revision.jobId);
    if (done && "predictions" in revision.result) {
      const { predictions, rows } = revision.result;
      let correct = 0;
      if (done.labels) for (let i = 0; i < rows; i++) if (predictions[i] === done.labels[i]) correct++;
      const entry = {
        id: done.id,
        description: done.description,
        accuracy: done.labels ? correct / rows : null,
        ...flag,
      };
      const others = store.getState().revisedJobs.filter((j) => j.id !== done.id);
      store.setState({ revisedJobs: [...others, entry].slice(-KEPT_FINISHED_JOBS) });
    }
    const generic = store.getState().generic;
    if (generic && revision.jobId === generic.routerJobId && "outputs" in revision.result) {
      const result = revision.result;
      this.#genericOutputs = new Map(result.outputNames.map((name) => [name, result.outputs[name]!]));
      store.setState({ generic: { ...generic, rowsBySource: result.rowsBySource, revised: flag } });
    }
  }

  #scheduleStats(): void {
    if (this.#statsTimer !== null || this.#closed) return;
    this.#statsTimer = setTimeout(() => {
      this.#statsTimer = null;
      this.#publishStats();
    }, UI_UPDATE_MS);
  }

  #publishStats(): void {
    const router = this.#routerInstance;
    if (router) this.#d.store.setState({ router: router.stats(), provider: router.stats().localProvider });
  }

  // ---- generic ONNX job (generic-job.ts) --------------------------------------------------------------------

  async runGeneric(modelFile: File, batchFile: File): Promise<void> {
    if (this.#genericBusy) throw new ExpertError("unavailable", "a generic job is already running");
    this.#genericBusy = true;
    this.#genericOutputs = null;
    const d = this.#d;
    try {
      await runGenericJob(
        {
          store: d.store,
          runner: d.runner,
          manifest: d.manifest,
          link: d.link,
          router: () => this.#ensureRouter(),
          onOutputs: (outputs) => (this.#genericOutputs = outputs),
          publishStats: () => this.#publishStats(),
        },
        ++this.#seq,
        modelFile,
        batchFile,
      );
    } finally {
      this.#genericBusy = false;
    }
  }
}

function noModels(): ExpertsInputError {
  return new ExpertsInputError(
    "no_models",
    "this site has no models: public/models/manifest.json is missing (npm run models:build)",
  );
}
