import { blocksToWide, type OutputLayout } from "./outputs.ts";
import { sourceDigest } from "../../models/model-bytes.ts";
import { ExpertError, type LoadedModel, type ModelRunner, type ModelSource } from "../../models/runner.ts";

/**
 * What the requester computes itself, on its own runner: the gate (always), and expert outputs for canaries,
 * arbitration and fallback; the same for a generic job's model (every output, wide: outputs.ts).
 * Models are loaded once, on first use; runs go in chunks of `chunkRows`.
 */
export class LocalModels {
  readonly #loading = new Map<string, Promise<LoadedModel>>();
  #gate: LoadedModel | null = null;

  constructor(
    private readonly runner: ModelRunner,
    /** Null for a router that only runs generic jobs (runModel). */
    private readonly gateSource: ModelSource | null,
    private readonly experts: readonly ModelSource[],
    private readonly classes: number,
    private readonly chunkRows: number,
  ) {}

  /** The gate, loaded and checked: outputs `weights` and `experts` (manifest.ts). */
  async gate(): Promise<LoadedModel> {
    if (this.#gate) return this.#gate;
    if (!this.gateSource) {
      throw new ExpertError("unavailable", "this router has no gate: it was created for generic jobs only");
    }
    const gate = await this.load(this.gateSource);
    if (!gate.outputNames.includes("weights") || !gate.outputNames.includes("experts")) {
      throw new ExpertError(
        "corrupt_model",
        `the gate's outputs are [${gate.outputNames.join(", ")}], expected weights and experts`,
      );
    }
    this.#gate = gate;
    return gate;
  }

  /** The gate on `rows` inputs: weights [rows, E] and the chosen experts [rows, k] (as float). */
  async runGate(
    pixels: Float32Array,
    rows: number,
  ): Promise<{ weights: Float32Array; chosen: Float32Array }> {
    const gate = await this.gate();
    const cols = gate.inputCols;
    const e = this.experts.length;
    const weights = new Float32Array(rows * e);
    let chosen: Float32Array | null = null;
    let k = 0;
    for (let at = 0; at < rows; at += this.chunkRows) {
      const n = Math.min(this.chunkRows, rows - at);
      const run = await this.runner.run(gate.sha256, pixels.subarray(at * cols, (at + n) * cols), n);
      const w = run.outputs["weights"];
      const x = run.outputs["experts"];
      if (!w || !x || w.cols !== e) {
        throw new ExpertError(
          "runtime_failed",
          `the gate gave weights of width ${w?.cols ?? 0}; the router has ${e} experts`,
        );
      }
      if (chosen === null) {
        k = x.cols;
        chosen = new Float32Array(rows * k);
      }
      if (x.cols !== k) throw new ExpertError("runtime_failed", "the gate's top-k changed between batches");
      weights.set(w.data, at * e);
      chosen.set(x.data, at * k);
    }
    return { weights, chosen: chosen ?? new Float32Array(0) };
  }

  /** Loads expert e (once; runExpert would on first use). */
  loadExpert(e: number): Promise<LoadedModel> {
    return this.load(this.experts[e]!);
  }

  /** Expert e on `rows` inputs: [rows, classes]. */
  async runExpert(e: number, input: Float32Array, rows: number): Promise<Float32Array> {
    const info = await this.load(this.experts[e]!);
    const cols = input.length / rows;
    const out = new Float32Array(rows * this.classes);
    for (let at = 0; at < rows; at += this.chunkRows) {
      const n = Math.min(this.chunkRows, rows - at);
      const run = await this.runner.run(info.sha256, input.subarray(at * cols, (at + n) * cols), n);
      const first = run.outputs[info.outputNames[0] ?? ""];
      if (!first || first.cols !== this.classes || first.data.length !== n * this.classes) {
        throw new ExpertError(
          "runtime_failed",
          `expert ${e} produced ${first?.cols ?? 0} columns, expected ${this.classes}`,
        );
      }
      out.set(first.data, at * this.classes);
    }
    return out;
  }

  /** A generic model on `rows` inputs: every output, wide ([rows, Σ cols] in `layout` order), the time the
   *  runs took (the router sizes batches and timeouts by it), and the layout: given, or (null) learned from
   *  the first run, in the model's output order. */
  async runWide(
    model: LoadedModel,
    layout: OutputLayout | null,
    input: Float32Array,
    rows: number,
  ): Promise<{ wide: Float32Array; ms: number; layout: OutputLayout }> {
    const cols = input.length / rows;
    let wide: Float32Array | null = null;
    let width = 0;
    let ms = 0;
    for (let at = 0; at < rows; at += this.chunkRows) {
      const n = Math.min(this.chunkRows, rows - at);
      const run = await this.runner.run(model.sha256, input.subarray(at * cols, (at + n) * cols), n);
      ms += run.ms;
      if (layout === null) {
        layout = model.outputNames.map((name) => {
          const out = run.outputs[name];
          if (!out) throw new ExpertError("runtime_failed", `the model produced no output ${name}`);
          return { name, cols: out.cols };
        });
        if (layout.length === 0) throw new ExpertError("runtime_failed", "the model has no outputs");
      }
      if (wide === null) {
        width = layout.reduce((w, b) => w + b.cols, 0);
        wide = new Float32Array(rows * width);
      }
      wide.set(blocksToWide(new Map(Object.entries(run.outputs)), n, layout), at * width);
    }
    if (wide === null || layout === null) throw new ExpertError("bad_input", "no rows to run");
    return { wide, ms, layout };
  }

  /** Loads a model once (later calls share the first load). */
  load(source: ModelSource): Promise<LoadedModel> {
    const sha = sourceDigest(source);
    let loading = this.#loading.get(sha);
    if (!loading) {
      loading = this.runner.load(source);
      this.#loading.set(sha, loading);
      loading.catch(() => this.#loading.delete(sha));
    }
    return loading;
  }
}
