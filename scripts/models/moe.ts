import { affine, affineRows } from "./tensor.ts";
import type { Rng } from "./rng.ts";

/**
 * The mixture of experts: a linear gate inputs→E, top-k routing with a softmax over the k chosen logits, and
 * E expert MLPs inputs→H→classes with ReLU. logits(x) = Σ_e w_e(x) · expert_e(x), with w_e = 0 for the
 * experts not chosen.
 */
export interface MoeShape {
  readonly inputs: number;
  readonly experts: number;
  readonly hidden: number;
  readonly classes: number;
  readonly topK: number;
}

export interface ExpertParams {
  /** [inputs, hidden] */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  /** [hidden, classes] */
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

export interface MoeParams {
  readonly shape: MoeShape;
  /** [inputs, experts] */
  readonly gateW: Float32Array;
  readonly gateB: Float32Array;
  readonly experts: readonly ExpertParams[];
}

export function zeroParams(shape: MoeShape): MoeParams {
  const { inputs, experts, hidden, classes } = shape;
  return {
    shape,
    gateW: new Float32Array(inputs * experts),
    gateB: new Float32Array(experts),
    experts: Array.from({ length: experts }, () => ({
      w1: new Float32Array(inputs * hidden),
      b1: new Float32Array(hidden),
      w2: new Float32Array(hidden * classes),
      b2: new Float32Array(classes),
    })),
  };
}

/** He-normal expert weights, zero biases; a small gate so early routing is close to uniform. */
export function initParams(shape: MoeShape, rng: Rng, gateStd = 0.01): MoeParams {
  const p = zeroParams(shape);
  for (let i = 0; i < p.gateW.length; i++) p.gateW[i] = gateStd * rng.normal();
  const std1 = Math.sqrt(2 / shape.inputs);
  const std2 = Math.sqrt(2 / shape.hidden);
  for (const e of p.experts) {
    for (let i = 0; i < e.w1.length; i++) e.w1[i] = std1 * rng.normal();
    for (let i = 0; i < e.w2.length; i++) e.w2[i] = std2 * rng.normal();
  }
  return p;
}

/** Every parameter tensor in a fixed order (the optimizer's and the gradient's layout). */
export function paramTensors(p: MoeParams): Float32Array[] {
  const list = [p.gateW, p.gateB];
  for (const e of p.experts) list.push(e.w1, e.b1, e.w2, e.b2);
  return list;
}

export function parameterCount(shape: MoeShape): number {
  const { inputs, experts, hidden, classes } = shape;
  return inputs * experts + experts + experts * (inputs * hidden + hidden + hidden * classes + classes);
}

/**
 * Indices of the k largest values of v[from .. from+len), best first; ties go to the lower index (what
 * ONNX Runtime's TopK does), written to out[0..k).
 */
export function topKInto(v: Float32Array, from: number, len: number, k: number, out: Int32Array): void {
  for (let s = 0; s < k; s++) {
    let best = -1;
    for (let e = 0; e < len; e++) {
      let taken = false;
      for (let t = 0; t < s; t++) if (out[t] === e) taken = true;
      if (taken) continue;
      if (best < 0 || v[from + e]! > v[from + best]!) best = e;
    }
    out[s] = best;
  }
}

export interface MoeOutput {
  /** [n, classes] */
  readonly logits: Float32Array;
  /** [n, experts] gate weights (0 for experts not chosen). */
  readonly weights: Float32Array;
  /** [n, topK] chosen experts, best first. */
  readonly chosen: Int32Array;
}

/**
 * Reference forward pass in TypeScript (float32 storage, as the fp32 graph): used to report accuracy during
 * training and to check the exported graph. Only the chosen experts run.
 */
export function forward(p: MoeParams, x: Float32Array, n: number): MoeOutput {
  const { inputs, experts: E, hidden: H, classes: C, topK: K } = p.shape;
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const gateLogits = new Float32Array(n * E);
  affineRows(x, rows, n, inputs, p.gateW, p.gateB, E, gateLogits);
  const weights = new Float32Array(n * E);
  const chosen = new Int32Array(n * K);
  const pick = new Int32Array(K);
  const routed: number[][] = Array.from({ length: E }, () => []);
  for (let i = 0; i < n; i++) {
    topKInto(gateLogits, i * E, E, K, pick);
    const top = gateLogits[i * E + pick[0]!]!;
    let sum = 0;
    for (let s = 0; s < K; s++) sum += Math.exp(gateLogits[i * E + pick[s]!]! - top);
    for (let s = 0; s < K; s++) {
      const e = pick[s]!;
      chosen[i * K + s] = e;
      weights[i * E + e] = Math.exp(gateLogits[i * E + e]! - top) / sum;
      routed[e]!.push(i);
    }
  }
  const logits = new Float32Array(n * C);
  const h = new Float32Array(n * H);
  const y = new Float32Array(n * C);
  for (let e = 0; e < E; e++) {
    const list = Int32Array.from(routed[e]!);
    const ex = p.experts[e]!;
    affineRows(x, list, list.length, inputs, ex.w1, ex.b1, H, h);
    for (let i = 0; i < list.length * H; i++) if (h[i]! < 0) h[i] = 0;
    affine(h, list.length, H, ex.w2, ex.b2, C, y);
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      const w = weights[r * E + e]!;
      for (let c = 0; c < C; c++) logits[r * C + c] = logits[r * C + c]! + w * y[i * C + c]!;
    }
  }
  return { logits, weights, chosen };
}

/** Fraction of rows whose largest logit is the label. */
export function accuracy(logits: Float32Array, labels: Uint8Array, classes: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}
