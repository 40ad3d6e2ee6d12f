import * as ort from "onnxruntime-node";
import { argmaxRows, combineExperts, gatherRows, routeRows } from "../../src/core/experts/router/index.ts";

/**
 * Measurements on the exported files with onnxruntime-node (native ONNX Runtime, CPU), never on the
 * TypeScript forward pass: test accuracy of moe-V.onnx, and whether gate-V + expert-I-V + the swarm's
 * combine (src/core/experts/router/jobs/combine.ts) reproduce moe-V exactly when every expert only sees its routed rows,
 * in batches unlike the whole-graph run's.
 */
export const ORT_VERSION: string = ort.env.versions.node ?? "unknown";

export class OrtModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly cols: number,
  ) {}

  /**
   * `optimization` "basic" keeps the graph's own ops: at the default level ("all") onnxruntime's CPU provider
   * rewrites DequantizeLinear→MatMul into MatMulNBits (bits 8, accuracy_level 4), which quantizes activations
   * too, so a qdq graph no longer computes float activations × dequantized weights.
   */
  static async load(
    bytes: Uint8Array,
    inputCols: number,
    optimization: "basic" | "all" = "all",
  ): Promise<OrtModel> {
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: optimization,
    });
    return new OrtModel(session, inputCols);
  }

  /** Runs `rows` rows in chunks of at most `chunkRows`; returns each output as float32 [rows, cols]. */
  async run(input: Float32Array, rows: number, chunkRows = 2048): Promise<Record<string, Float32Array>> {
    const parts: Record<string, Float32Array[]> = {};
    for (let from = 0; from < rows; from += chunkRows) {
      const n = Math.min(chunkRows, rows - from);
      const data = input.subarray(from * this.cols, (from + n) * this.cols);
      const results = await this.session.run({ pixels: new ort.Tensor("float32", data, [n, this.cols]) });
      for (const name of this.session.outputNames) {
        const t = results[name]!;
        const values =
          t.data instanceof Float32Array
            ? Float32Array.from(t.data)
            : Float32Array.from(t.data as BigInt64Array, Number);
        (parts[name] ??= []).push(values);
      }
    }
    const out: Record<string, Float32Array> = {};
    for (const [name, chunks] of Object.entries(parts)) {
      const all = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      out[name] = all;
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function accuracyOf(logits: Float32Array, labels: Uint8Array, classes: number): number {
  const predicted = argmaxRows(logits, classes);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / labels.length;
}

export interface Equivalence {
  /** Rows whose predicted class differs between gate+experts+combine and the moe graph. */
  readonly argmaxMismatches: number;
  /** Rows whose logits are not bit-identical. */
  readonly rowsNotIdentical: number;
  readonly maxAbsLogitDiff: number;
  /** Routing slots per expert (the dashboard's histogram) on these rows. */
  readonly chosenCount: readonly number[];
}

export async function compareSwarmToWhole(options: {
  gate: Uint8Array;
  experts: readonly Uint8Array[];
  moeLogits: Float32Array;
  x: Float32Array;
  rows: number;
  inputCols: number;
  classes: number;
  /** Batch size of the routed expert runs (different from the whole-graph run on purpose). */
  expertChunkRows: number;
}): Promise<Equivalence> {
  const { inputCols: D, classes: C, rows } = options;
  const gate = await OrtModel.load(options.gate, D);
  const g = await gate.run(options.x, rows);
  await gate.release();
  const weights = g["weights"]!;
  const routing = routeRows({ rows, experts: options.experts.length, weights, chosen: g["experts"]! });
  const outputs: Float32Array[] = [];
  for (let e = 0; e < options.experts.length; e++) {
    const list = routing.rowsOf[e]!;
    const model = await OrtModel.load(options.experts[e]!, D);
    outputs.push(
      list.length === 0
        ? new Float32Array(0)
        : (await model.run(gatherRows(options.x, D, list), list.length, options.expertChunkRows))["logits"]!,
    );
    await model.release();
  }
  const combined = combineExperts(routing, weights, outputs, C);
  const a = argmaxRows(combined, C);
  const b = argmaxRows(options.moeLogits, C);
  let argmaxMismatches = 0;
  let rowsNotIdentical = 0;
  let maxAbsLogitDiff = 0;
  for (let r = 0; r < rows; r++) {
    if (a[r] !== b[r]) argmaxMismatches++;
    let same = true;
    for (let c = 0; c < C; c++) {
      const d = Math.abs(combined[r * C + c]! - options.moeLogits[r * C + c]!);
      if (d !== 0) same = false;
      maxAbsLogitDiff = Math.max(maxAbsLogitDiff, d);
    }
    if (!same) rowsNotIdentical++;
  }
  return { argmaxMismatches, rowsNotIdentical, maxAbsLogitDiff, chosenCount: routing.chosenCount };
}
