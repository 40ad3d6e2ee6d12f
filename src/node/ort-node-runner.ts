import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as ort from "onnxruntime-node";
import {
  ExpertError,
  type LoadedModel,
  type ModelRunner,
  type ModelSource,
  type RunOutput,
} from "../core/experts/models/index.ts";

/**
 * ModelRunner over onnxruntime-node (native ONNX Runtime, CPU): the reference the browser runner is compared
 * with in tests and in bench:experts, and the runner a Node process uses. Manifest sources are read from
 * `modelsDir` (public/models) instead of fetched.
 */
export class OrtNodeRunner implements ModelRunner {
  readonly provider = "cpu" as const;
  private readonly sessions = new Map<string, { session: ort.InferenceSession; info: LoadedModel }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly modelsDir: string,
    private readonly options: {
      intraOpThreads?: number;
      /** Default "all", except qdq manifest models get "basic": at "all" onnxruntime-node fuses
       *  DequantizeLinear + MatMul into an int8 kernel that also quantizes the activations, which
       *  onnxruntime-web does not do (logits then differ by up to 0.05 from the browser's); and models
       *  given as bytes (uploaded, or sent by a requester) get "disabled", as in the browser
       *  (models/session-pool.ts): constant folding at session creation is where a hostile graph
       *  allocates gigabytes. */
      graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
    } = {},
  ) {}

  async load(source: ModelSource): Promise<LoadedModel> {
    const sha256 = source.kind === "manifest" ? source.entry.sha256 : source.sha256;
    const known = this.sessions.get(sha256);
    if (known) return { ...known.info, fromCache: true, loadMs: 0 };
    const started = performance.now();
    const bytes =
      source.kind === "bytes"
        ? source.bytes
        : new Uint8Array(await readFile(`${this.modelsDir}/${source.entry.file}`));
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== sha256) {
      throw new ExpertError("digest_mismatch", `model bytes have sha256 ${actual}, expected ${sha256}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: this.options.intraOpThreads ?? 1,
        graphOptimizationLevel:
          this.options.graphOptimizationLevel ??
          (source.kind === "bytes" ? "disabled" : source.entry.variant === "qdq" ? "basic" : "all"),
        interOpNumThreads: 1,
      });
    } catch (error) {
      throw new ExpertError("corrupt_model", `onnxruntime could not load the model: ${String(error)}`);
    }
    const inputName = session.inputNames[0];
    if (inputName === undefined) throw new ExpertError("corrupt_model", "the model has no input");
    const inputMeta = session.inputMetadata[0];
    const outputMeta = session.outputMetadata[0];
    const info: LoadedModel = {
      sha256,
      inputName,
      inputCols: inputMeta && inputMeta.isTensor ? rowWidth(inputMeta.shape) : 0,
      outputNames: [...session.outputNames],
      outputCols: outputMeta && outputMeta.isTensor ? rowWidth(outputMeta.shape) : 0,
      fromCache: false,
      loadMs: performance.now() - started,
    };
    this.sessions.set(sha256, { session, info });
    return info;
  }

  run(sha256: string, input: Float32Array, rows: number): Promise<RunOutput> {
    // Serialized: one ORT run at a time, as in the browser worker.
    const next = this.queue.then(() => this.runNow(sha256, input, rows));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async unload(sha256: string): Promise<void> {
    const entry = this.sessions.get(sha256);
    this.sessions.delete(sha256);
    await entry?.session.release();
  }

  private async runNow(sha256: string, input: Float32Array, rows: number): Promise<RunOutput> {
    const entry = this.sessions.get(sha256);
    if (!entry) throw new ExpertError("model_missing", `model ${sha256.slice(0, 12)} is not loaded`);
    const cols = entry.info.inputCols;
    if (!Number.isInteger(rows) || rows < 1 || input.length !== rows * cols) {
      throw new ExpertError(
        "bad_input",
        `input has ${input.length} values for ${rows} rows; the model wants rows × ${cols}`,
      );
    }
    const started = performance.now();
    const feeds = { [entry.info.inputName]: new ort.Tensor("float32", input, [rows, cols]) };
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await entry.session.run(feeds);
    } catch (error) {
      throw new ExpertError("runtime_failed", `onnxruntime failed: ${String(error)}`);
    }
    const outputs: Record<string, { data: Float32Array; cols: number }> = {};
    for (const name of entry.session.outputNames) {
      const tensor = results[name] as ort.Tensor | undefined;
      if (!tensor) continue;
      const data =
        tensor.data instanceof Float32Array
          ? tensor.data
          : Float32Array.from(tensor.data as ArrayLike<number>, Number);
      outputs[name] = { data, cols: rows > 0 ? data.length / rows : 0 };
    }
    return { outputs, ms: performance.now() - started };
  }
}

/** Product of the non-batch dims (dims after the first); symbolic dims there count as unknown (0). */
function rowWidth(shape: readonly (number | string)[]): number {
  let width = 1;
  for (const d of shape.slice(1)) {
    if (typeof d !== "number" || d < 0) return 0;
    width *= d;
  }
  return width;
}
