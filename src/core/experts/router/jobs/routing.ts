import { ExpertError } from "../../models/runner.ts";

/**
 * From the gate's outputs to per-expert work: which rows each expert must see. The gate (manifest.ts) gives
 * `weights` [N, E] (top-k softmax weights scattered into E slots, 0 elsewhere) and `experts` [N, k] (the
 * chosen indices, int64 delivered as float). A row goes to expert e exactly when weights[n, e] ≠ 0: those are
 * the only terms of the whole-graph sum Σ_e weights[n, e] · expert_e(x_n) that are not zero, so nothing else
 * needs computing (a chosen expert whose softmax weight underflowed to 0 contributes nothing either way).
 * The gate's two outputs must agree: a non-zero weight outside the row's chosen experts is refused.
 */
export interface GateOutput {
  readonly rows: number;
  readonly experts: number;
  readonly weights: Float32Array;
  /** [rows, topK] expert indices as float. */
  readonly chosen: Float32Array;
}

export interface Routing {
  readonly rows: number;
  readonly experts: number;
  readonly topK: number;
  /** Per expert, ascending row indices routed to it. */
  readonly rowsOf: readonly Int32Array[];
  /** Per expert, how many rows chose it among their top-k (the dashboard's routing histogram). */
  readonly chosenCount: readonly number[];
}

export function routeRows(gate: GateOutput): Routing {
  const { rows: n, experts: e, weights, chosen } = gate;
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(e) || e < 1) {
    throw new ExpertError("bad_input", `gate output has ${n} rows and ${e} experts`);
  }
  if (weights.length !== n * e) {
    throw new ExpertError("bad_input", `gate weights have ${weights.length} values, expected ${n} × ${e}`);
  }
  const k = n === 0 ? 0 : chosen.length / n;
  if (n > 0 && (!Number.isInteger(k) || k < 1 || k > e)) {
    throw new ExpertError("bad_input", `gate experts have ${chosen.length} values for ${n} rows`);
  }
  const counts = new Array<number>(e).fill(0);
  const chosenCount = new Array<number>(e).fill(0);
  const isChosen = new Uint8Array(e);
  for (let r = 0; r < n; r++) {
    isChosen.fill(0);
    for (let j = 0; j < k; j++) {
      const idx = chosen[r * k + j]!;
      if (!Number.isInteger(idx) || idx < 0 || idx >= e) {
        throw new ExpertError("bad_input", `row ${r}: gate chose expert ${idx}, outside 0..${e - 1}`);
      }
      if (isChosen[idx] === 0) chosenCount[idx]!++;
      isChosen[idx] = 1;
    }
    for (let x = 0; x < e; x++) {
      const w = weights[r * e + x]!;
      if (!Number.isFinite(w) || w < 0)
        throw new ExpertError("bad_input", `row ${r}: gate weight ${x} is ${w}`);
      if (w === 0) continue;
      if (isChosen[x] === 0) {
        throw new ExpertError(
          "bad_input",
          `row ${r}: expert ${x} has weight ${w} but is not among the chosen`,
        );
      }
      counts[x]!++;
    }
  }
  const rowsOf = counts.map((c) => new Int32Array(c));
  const fill = new Array<number>(e).fill(0);
  for (let r = 0; r < n; r++) {
    for (let x = 0; x < e; x++) if (weights[r * e + x] !== 0) rowsOf[x]![fill[x]!++] = r;
  }
  return { rows: n, experts: e, topK: k, rowsOf, chosenCount };
}

/** The rows `rowIndices` of a row-major [*, cols] matrix, packed. */
export function gatherRows(source: Float32Array, cols: number, rowIndices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rowIndices.length * cols);
  for (let i = 0; i < rowIndices.length; i++) {
    const r = rowIndices[i]!;
    out.set(source.subarray(r * cols, (r + 1) * cols), i * cols);
  }
  return out;
}
