/** A classify job as the Experts view shows it: its empty start, its outcome, previews and errors in words. */
import type { StoreApi } from "zustand/vanilla";
import type { ClassifyResult } from "../../core/experts/router/index.ts";
import { ExpertError } from "../../core/experts/models/index.ts";
import { BatchError } from "./batch.ts";
import { ExpertsInputError, previewPixels, type ClassifyInput } from "./inputs.ts";
import type {
  ClassifyJobView,
  ExpertsErrorCode,
  ExpertsJobError,
  ExpertsState,
  PreviewImage,
} from "./types.ts";

/** How many thumbnails the quick view of a finished classify job shows. */
const PREVIEW_COUNT = 16;

export function emptyClassify(id: number, source: ClassifyJobView["source"]): ClassifyJobView {
  return {
    id,
    source,
    description: source === "test-set" ? "Fashion-MNIST test images" : "uploaded files",
    phase: "loading-inputs",
    rows: 0,
    rowsDone: 0,
    startedAtMs: Date.now(),
    elapsedMs: null,
    error: null,
    predictions: null,
    labels: null,
    accuracy: null,
    correct: null,
    rowsPerExpert: [],
    chosenPerExpert: [],
    rowsBySource: {},
    previews: [],
    images: null,
    invertedCount: 0,
    gateMs: null,
    timeline: null,
    routerJobId: null,
    revised: null,
  };
}

/** What a classify result means for the view: predictions, accuracy against known labels, sources. */
export function outcome(
  input: ClassifyInput,
  result: ClassifyResult,
): Pick<ClassifyJobView, "predictions" | "correct" | "accuracy" | "rowsBySource" | "previews"> {
  let correct: number | null = null;
  if (input.labels) {
    correct = 0;
    for (let i = 0; i < result.rows; i++) if (result.predictions[i] === input.labels[i]) correct++;
  }
  return {
    predictions: result.predictions,
    correct,
    accuracy: correct === null ? null : correct / result.rows,
    rowsBySource: result.rowsBySource,
    previews: previews(input, result.predictions),
  };
}

export function patchClassify(
  store: StoreApi<ExpertsState>,
  id: number,
  patch: Partial<ClassifyJobView>,
): void {
  const current = store.getState().classify;
  if (current?.id === id) store.setState({ classify: { ...current, ...patch } });
}

/** The quick view: the first images, with a few misclassified ones swapped in so mistakes are visible. */
export function previews(input: ClassifyInput, predictions: Int32Array): PreviewImage[] {
  const picked: number[] = [];
  const wrong: number[] = [];
  if (input.labels) {
    for (let i = 0; i < input.rows && wrong.length < PREVIEW_COUNT / 4; i++) {
      if (predictions[i] !== input.labels[i]) wrong.push(i);
    }
  }
  for (let i = 0; i < input.rows && picked.length < PREVIEW_COUNT - wrong.length; i++) {
    if (!wrong.includes(i)) picked.push(i);
  }
  return [...picked, ...wrong]
    .sort((a, b) => a - b)
    .map((i) => ({
      index: i,
      pixels: previewPixels(input.pixels, i),
      predicted: predictions[i] ?? null,
      label: input.labels ? input.labels[i]! : null,
      name: input.names[i] ?? `#${i}`,
    }));
}

export function toJobError(error: unknown, kind: "classify" | "generic"): ExpertsJobError {
  if (error instanceof ExpertsInputError || error instanceof BatchError)
    return { code: error.code, message: error.message };
  if (error instanceof ExpertError) {
    const code: ExpertsErrorCode =
      error.code === "bad_input"
        ? "bad_shape"
        : error.code === "corrupt_model" && kind === "generic"
          ? "not_onnx"
          : "model_failed";
    return { code, message: error.message };
  }
  return { code: "failed", message: error instanceof Error ? error.message : String(error) };
}
