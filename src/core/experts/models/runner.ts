import { CodedError } from "../../base/coded-error.ts";
import type { ExecutionProvider, ManifestModel } from "../../protocol/manifest.ts";

/**
 * What runs an ONNX model, wherever it runs: onnxruntime-web in the expert worker (browser), onnxruntime-node
 * in tests and the benchmark. The router and the expert host only see this interface, so the same core code
 * runs in a tab and in Node.
 *
 * Models are addressed by content (sha256). A runner refuses bytes whose digest differs from the one asked
 * for, and never caches them.
 */
export interface ModelRunner {
  /** Which provider sessions actually use here ("wasm" when webgpu was asked for but is unavailable). */
  readonly provider: ExecutionProvider | "cpu";
  /** Loads (fetching if needed) and creates the session once; later calls for the same digest are free. */
  load(model: ModelSource): Promise<LoadedModel>;
  /** Runs one batch; runs on one session are serialized. Rejects with ExpertError("bad_input") on a shape
   *  or type mismatch, before calling the runtime. */
  run(sha256: string, input: Float32Array, rows: number): Promise<RunOutput>;
  /** Drops the session (not the cached bytes). */
  unload(sha256: string): Promise<void>;
}

/** Where a model comes from: the site's manifest (fetched by URL, checked by digest) or bytes in hand
 *  (an uploaded model, or one a requester sent as a blob). */
export type ModelSource =
  | { readonly kind: "manifest"; readonly entry: ManifestModel; readonly url: string }
  | { readonly kind: "bytes"; readonly sha256: string; readonly bytes: Uint8Array; readonly label: string };

export interface LoadedModel {
  readonly sha256: string;
  readonly inputName: string;
  /** Per-row input width (product of the non-batch dims), e.g. 784. */
  readonly inputCols: number;
  readonly outputNames: readonly string[];
  /** Per-row width of the first output, e.g. 10 (or E for a gate's weights). */
  readonly outputCols: number;
  readonly fromCache: boolean;
  readonly loadMs: number;
}

export interface RunOutput {
  /** Every output by name, each [rows, cols] row-major; int64 outputs are converted to Float32Array. */
  readonly outputs: Readonly<Record<string, { readonly data: Float32Array; readonly cols: number }>>;
  readonly ms: number;
}

export type ExpertErrorCode =
  | "fetch_failed"
  | "digest_mismatch"
  | "corrupt_model"
  | "bad_input"
  | "model_missing"
  | "runtime_failed"
  | "timeout"
  | "unavailable"
  /** A model from a requester whose graph is over the host's budget, or cannot be bounded (graph/). */
  | "model_over_budget";

export class ExpertError extends CodedError<ExpertErrorCode> {
  override readonly name = "ExpertError";
}
