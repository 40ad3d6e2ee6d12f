import type { Routing } from "./routing.ts";
import { ExpertError } from "../../models/runner.ts";

/**
 * Combines expert outputs into the mixture's logits exactly as the whole-graph moe-V.onnx does, so swarm
 * predictions are bit-identical to it on the same provider: for each row, in expert order e = 0..E-1,
 * acc ← acc + weights[n, e] · y_e[n, :], every product and every sum rounded to float32 (ONNX Mul and Add on
 * float tensors; a Float32Array store is that rounding, and a float32 product or sum computed in double then
 * rounded once equals the float32 operation). Experts with weight 0 add exactly nothing, so they are skipped;
 * the first non-zero term is stored rather than added to +0, which also keeps the sign of a -0.
 *
 * `outputs[e]` holds expert e's output for `routing.rowsOf[e]`, in that order, [rowsOf[e].length, classes].
 */
export function combineExperts(
  routing: Routing,
  weights: Float32Array,
  outputs: readonly (Float32Array | null | undefined)[],
  classes: number,
): Float32Array {
  const { rows, experts, rowsOf } = routing;
  if (weights.length !== rows * experts) {
    throw new ExpertError(
      "bad_input",
      `weights have ${weights.length} values, expected ${rows} × ${experts}`,
    );
  }
  const logits = new Float32Array(rows * classes);
  const started = new Uint8Array(rows);
  for (let e = 0; e < experts; e++) {
    const list = rowsOf[e]!;
    if (list.length === 0) continue;
    const y = outputs[e];
    if (!y || y.length !== list.length * classes) {
      throw new ExpertError(
        "bad_input",
        `expert ${e} output has ${y?.length ?? 0} values for ${list.length} rows × ${classes}`,
      );
    }
    for (let i = 0; i < list.length; i++) {
      const n = list[i]!;
      const w = weights[n * experts + e]!;
      const at = n * classes;
      const from = i * classes;
      if (started[n] === 0) {
        for (let c = 0; c < classes; c++) logits[at + c] = Math.fround(w * y[from + c]!);
        started[n] = 1;
      } else {
        for (let c = 0; c < classes; c++) logits[at + c] = logits[at + c]! + Math.fround(w * y[from + c]!);
      }
    }
  }
  return logits;
}

/** Index of the largest logit per row (the first on ties, like ONNX ArgMax). */
export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  const rows = logits.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}
