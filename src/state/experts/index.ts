/** The experts in this tab: hosting, classify and generic jobs, inputs, and the stores the Experts views read. */
export { MAX_BATCH_FILE_BYTES, MAX_MODEL_FILE_BYTES } from "./batch.ts";
export { bootExperts } from "./boot.ts";
export { MAX_CLASSIFY_ROWS, previewPixels } from "./inputs.ts";
export type { ExpertsStore } from "./store.ts";
export type {
  ClassifyFilesOptions,
  ClassifyJobView,
  ExpertsJobPhase,
  ExpertsState,
  JobRevision,
} from "./types.ts";
export { workLogRows } from "./work-log.ts";
