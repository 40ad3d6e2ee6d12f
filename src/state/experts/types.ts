import type { ExpertHostStats } from "../../core/experts/host/index.ts";
import type { ClassifyTimeline, RouterStatsSnapshot } from "../../core/experts/router/index.ts";

/**
 * The "Classify images (mixture of experts)" view's state (store.ts): the site's models, the
 * classify job and the generic ONNX job this tab runs as a requester, the router's view of the expert hosts,
 * and what this tab hosts for others as a volunteer.
 */

export type ManifestStatus = "loading" | "ready" | "missing" | "error";

export interface ManifestView {
  readonly status: ManifestStatus;
  readonly error: string | null;
  readonly classes: readonly string[];
  readonly experts: number;
  readonly topK: number;
  /** Measured test-set accuracy of the whole-graph models (manifest.accuracy). */
  readonly accuracy: { readonly fp32: number; readonly int8: number; readonly testImages: number } | null;
  /** Bytes of one int8 expert / the int8 whole graph, for the "what you download" line. */
  readonly expertBytes: number;
}

/** A specific, user-facing failure; `code` is stable (tests and the UI key on it). */
export interface ExpertsJobError {
  readonly code: ExpertsErrorCode;
  readonly message: string;
}

export type ExpertsErrorCode =
  | "dataset_missing"
  | "fetch_failed"
  | "bad_file"
  | "too_large"
  | "bad_shape"
  | "not_onnx"
  | "model_failed"
  | "no_models"
  | "busy"
  | "failed";

export type ExpertsJobPhase =
  "loading-inputs" | "loading-models" | "waiting-for-hosts" | "running" | "done" | "failed";

/** One image of the quick view: the 28×28 model input (0..255), what the swarm said and the truth. */
export interface ClassifyImages {
  /** rows × 784 model inputs (white on black, 0..1). */
  readonly pixels: Float32Array;
  readonly names: readonly string[];
}

export interface PreviewImage {
  readonly index: number;
  readonly pixels: Uint8Array;
  readonly predicted: number | null;
  readonly label: number | null;
  readonly name: string;
}

export interface ClassifyJobView {
  readonly id: number;
  readonly source: "test-set" | "upload";
  /** "1000 test images", "3 uploaded files". */
  readonly description: string;
  readonly phase: ExpertsJobPhase;
  readonly rows: number;
  readonly rowsDone: number;
  readonly startedAtMs: number;
  readonly elapsedMs: number | null;
  readonly error: ExpertsJobError | null;
  /** Set when done: predicted class per row. */
  readonly predictions: Int32Array | null;
  /** Known labels (test set, IDX labels file), else null. */
  readonly labels: Uint8Array | null;
  readonly accuracy: number | null;
  readonly correct: number | null;
  /** Per expert, this job: rows routed to it, and rows that chose it in their top-k. */
  readonly rowsPerExpert: readonly number[];
  readonly chosenPerExpert: readonly number[];
  /** Expert rows accepted from each volunteer in this job ("local" = this tab's own runner). */
  readonly rowsBySource: Readonly<Record<string, number>>;
  readonly previews: readonly PreviewImage[];
  /** Set when done: every input as fed to the model and its name, for paging through all predictions. */
  readonly images: ClassifyImages | null;
  /** Uploaded images that were inverted (dark-on-light photos), for the notice under the grid. */
  readonly invertedCount: number;
  readonly gateMs: number | null;
  /** Where the job's time went, once done (bench:experts prints it): ms from Run to the inputs loaded, to
   *  the router made (models in this tab loading), to the volunteers' probes answered, then the router's
   *  own timeline from there. */
  readonly timeline: ClassifyJobTimeline | null;
  /** The router's id of the job, once done. */
  readonly routerJobId: string | null;
  /** Set when hosts that served this job were banned after it finished: what they delivered was
   *  recomputed here and the predictions above are the corrected ones. */
  readonly revised: JobRevision | null;
}

export interface ClassifyJobTimeline {
  readonly inputsMs: number;
  readonly routerMs: number;
  readonly probesMs: number;
  readonly router: ClassifyTimeline;
}

/** A finished job corrected after some of its hosts were caught lying. */
export interface JobRevision {
  readonly bannedHosts: readonly string[];
  readonly rowsRecomputed: number;
}

/** An earlier classify job (no longer the one shown) corrected after a ban, for the notice in the view. */
export interface RevisedJobView extends JobRevision {
  /** The view's job id (ClassifyJobView.id) and what it was. */
  readonly id: number;
  readonly description: string;
  /** Accuracy of the corrected predictions, when the labels are known. */
  readonly accuracy: number | null;
}

export interface GenericJobView {
  readonly id: number;
  readonly modelName: string;
  readonly modelSha256: string;
  readonly modelBytes: number;
  readonly inputName: string;
  readonly inputShape: readonly number[];
  readonly phase: ExpertsJobPhase;
  readonly rows: number;
  readonly rowsDone: number;
  readonly startedAtMs: number;
  readonly elapsedMs: number | null;
  readonly error: ExpertsJobError | null;
  /** Where the rows ran: "swarm" (router shards) or "local" (this tab's runner). */
  readonly mode: "swarm" | "local";
  readonly rowsBySource: Readonly<Record<string, number>>;
  /** Output name → per-row width, once done. */
  readonly outputs: readonly { readonly name: string; readonly cols: number }[];
  readonly routerJobId: string | null;
  /** As ClassifyJobView.revised: the outputs (downloads) are the corrected ones. */
  readonly revised: JobRevision | null;
}

export interface ExpertsState {
  readonly manifest: ManifestView;
  readonly classify: ClassifyJobView | null;
  readonly generic: GenericJobView | null;
  /** Earlier classify jobs of this tab corrected after a ban (newest last). */
  readonly revisedJobs: readonly RevisedJobView[];
  /** The requester's router, once a classify job created it. */
  readonly router: RouterStatsSnapshot | null;
  /** This tab as an expert host (volunteer side); null until it runs. */
  readonly host: ExpertHostStats | null;
  /** sha256 → readable name ("expert-3 (int8)") for what the host serves. */
  readonly hostedNames: Readonly<Record<string, string>>;
  /** Provider this tab's runners use ("wasm", "webgpu"), once known. */
  readonly provider: string | null;
  /** The host's person's switch: host models that are not this site's (off by default; persisted). */
  readonly hostAnyModel: boolean;
  readonly actions: ExpertsActions;
}

export interface ClassifyFilesOptions {
  readonly invert: "auto" | "always" | "never";
}

export interface ExpertsActions {
  /** Gets this tab ready to classify (the Experts view calls it when it opens): the router is made, the
   *  gate and experts load here, volunteers are asked to host their experts now, not at the first job. */
  prefetch(): void;
  /** Classifies the first `count` images of the Fashion-MNIST test set (served by /api/v1/datasets). */
  classifyTestSet(count: number): Promise<void>;
  /** Classifies uploaded PNG/JPEG images and/or IDX image files (+ an optional IDX labels file). */
  classifyFiles(files: readonly File[], options: ClassifyFilesOptions): Promise<void>;
  /** Runs an uploaded ONNX model on an uploaded batch (JSON {shape, data} or .npy). */
  runGeneric(model: File, batch: File): Promise<void>;
  /** Hosts models that are not this site's for requesters (each budget-checked, in its own worker). */
  setHostAnyModel(on: boolean): void;
  /** The generic job's outputs (name → [rows, cols]), for downloads. */
  genericOutputs(): ReadonlyMap<string, { readonly data: Float32Array; readonly cols: number }> | null;
}
