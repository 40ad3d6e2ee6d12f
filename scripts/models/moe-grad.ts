import { topKInto, type MoeParams, type MoeShape } from "./moe.ts";
import { accumulateColumnSums, accumulateOuter, accumulateOuterRows, affine, affineRows } from "./tensor.ts";

/**
 * Loss and gradient of the mixture on one minibatch: cross-entropy of the mixed logits plus the
 * Switch-Transformer load-balancing loss  aux = α · E · Σ_e f_e · P_e, where f_e is the fraction of the batch's
 * k·B routing slots that went to expert e (not differentiable) and P_e the mean full-softmax gate probability of
 * e (differentiable). Minimising it pushes probability towards under-used experts, so routing stays spread
 * over all E experts instead of collapsing onto one or two.
 *
 * Gradients reach the gate through the top-k softmax weights (only the chosen logits) and through P_e (all
 * logits). Only routed rows run through each expert, forward and backward. Buffers are allocated once for
 * `maxBatch` rows.
 */
export interface StepResult {
  /** Mean cross-entropy. */
  readonly ce: number;
  readonly aux: number;
  readonly correct: number;
  /** Routing slots per expert in this batch. */
  readonly counts: readonly number[];
}

export class MoeGradient {
  private readonly gateLogits: Float32Array;
  private readonly gateProbs: Float64Array;
  private readonly chosen: Int32Array;
  private readonly gateWeight: Float32Array;
  private readonly dGateWeight: Float32Array;
  private readonly dGateLogits: Float32Array;
  private readonly mixed: Float32Array;
  private readonly dMixed: Float32Array;
  private readonly rowsOf: Int32Array[];
  private readonly slotOf: Int32Array[];
  private readonly counts: Int32Array;
  private readonly hidden: Float32Array[];
  private readonly out: Float32Array[];
  private readonly dOut: Float32Array;
  private readonly dHidden: Float32Array;
  private readonly pick: Int32Array;
  private readonly sampleRows: Int32Array;

  constructor(
    private readonly shape: MoeShape,
    private readonly maxBatch: number,
  ) {
    const { experts: E, hidden: H, classes: C, topK: K } = shape;
    this.gateLogits = new Float32Array(maxBatch * E);
    this.gateProbs = new Float64Array(maxBatch * E);
    this.chosen = new Int32Array(maxBatch * K);
    this.gateWeight = new Float32Array(maxBatch * K);
    this.dGateWeight = new Float32Array(maxBatch * K);
    this.dGateLogits = new Float32Array(maxBatch * E);
    this.mixed = new Float32Array(maxBatch * C);
    this.dMixed = new Float32Array(maxBatch * C);
    this.rowsOf = Array.from({ length: E }, () => new Int32Array(maxBatch));
    this.slotOf = Array.from({ length: E }, () => new Int32Array(maxBatch));
    this.counts = new Int32Array(E);
    this.hidden = Array.from({ length: E }, () => new Float32Array(maxBatch * H));
    this.out = Array.from({ length: E }, () => new Float32Array(maxBatch * C));
    this.dOut = new Float32Array(maxBatch * C);
    this.dHidden = new Float32Array(maxBatch * H);
    this.pick = new Int32Array(K);
    this.sampleRows = new Int32Array(maxBatch);
  }

  /**
   * Overwrites `grads` (same layout as `params`) with ∂(ce + aux)/∂θ for the rows `batch` of `x`, and returns
   * the batch's losses.
   */
  compute(
    params: MoeParams,
    grads: MoeParams,
    x: Float32Array,
    labels: Uint8Array,
    batch: Int32Array,
    auxWeight: number,
  ): StepResult {
    const { inputs: D, experts: E, hidden: H, classes: C, topK: K } = this.shape;
    const B = batch.length;
    if (B > this.maxBatch || B === 0) throw new Error(`batch of ${B} rows; buffers hold 1..${this.maxBatch}`);
    zero(grads);

    // Gate: logits, full softmax (for aux), top-k and the softmax over the chosen logits.
    const z = this.gateLogits;
    affineRows(x, batch, B, D, params.gateW, params.gateB, E, z);
    this.counts.fill(0);
    for (let b = 0; b < B; b++) {
      const zo = b * E;
      let max = -Infinity;
      for (let e = 0; e < E; e++) max = Math.max(max, z[zo + e]!);
      let sum = 0;
      for (let e = 0; e < E; e++) sum += Math.exp(z[zo + e]! - max);
      for (let e = 0; e < E; e++) this.gateProbs[zo + e] = Math.exp(z[zo + e]! - max) / sum;
      topKInto(z, zo, E, K, this.pick);
      const top = z[zo + this.pick[0]!]!;
      let chosenSum = 0;
      for (let s = 0; s < K; s++) chosenSum += Math.exp(z[zo + this.pick[s]!]! - top);
      for (let s = 0; s < K; s++) {
        const e = this.pick[s]!;
        this.chosen[b * K + s] = e;
        this.gateWeight[b * K + s] = Math.exp(z[zo + e]! - top) / chosenSum;
        this.rowsOf[e]![this.counts[e]!] = b;
        this.slotOf[e]![this.counts[e]!] = s;
        this.counts[e]!++;
      }
    }

    // Experts on their routed rows; mix.
    const mixed = this.mixed;
    mixed.fill(0, 0, B * C);
    for (let e = 0; e < E; e++) {
      const n = this.counts[e]!;
      if (n === 0) continue;
      const ex = params.experts[e]!;
      const rows = this.rowsOf[e]!;
      for (let i = 0; i < n; i++) this.sampleRows[i] = batch[rows[i]!]!;
      const h = this.hidden[e]!;
      affineRows(x, this.sampleRows, n, D, ex.w1, ex.b1, H, h);
      for (let i = 0; i < n * H; i++) if (h[i]! < 0) h[i] = 0;
      const y = this.out[e]!;
      affine(h, n, H, ex.w2, ex.b2, C, y);
      const slots = this.slotOf[e]!;
      for (let i = 0; i < n; i++) {
        const b = rows[i]!;
        const w = this.gateWeight[b * K + slots[i]!]!;
        for (let c = 0; c < C; c++) mixed[b * C + c] = mixed[b * C + c]! + w * y[i * C + c]!;
      }
    }

    // Cross-entropy and its gradient w.r.t. the mixed logits (mean over the batch).
    let ce = 0;
    let correct = 0;
    const dMixed = this.dMixed;
    for (let b = 0; b < B; b++) {
      const o = b * C;
      let max = -Infinity;
      let best = 0;
      for (let c = 0; c < C; c++) {
        if (mixed[o + c]! > max) {
          max = mixed[o + c]!;
          best = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(mixed[o + c]! - max);
      const label = labels[batch[b]!]!;
      if (best === label) correct++;
      ce += max + Math.log(sum) - mixed[o + label]!;
      for (let c = 0; c < C; c++)
        dMixed[o + c] = (Math.exp(mixed[o + c]! - max) / sum - (c === label ? 1 : 0)) / B;
    }
    ce /= B;

    // Experts backward; gradient w.r.t. each chosen gate weight.
    for (let e = 0; e < E; e++) {
      const n = this.counts[e]!;
      if (n === 0) continue;
      const ex = params.experts[e]!;
      const gx = grads.experts[e]!;
      const rows = this.rowsOf[e]!;
      const slots = this.slotOf[e]!;
      const h = this.hidden[e]!;
      const y = this.out[e]!;
      const dy = this.dOut;
      for (let i = 0; i < n; i++) {
        const b = rows[i]!;
        const slot = b * K + slots[i]!;
        const w = this.gateWeight[slot]!;
        let dw = 0;
        for (let c = 0; c < C; c++) {
          const g = dMixed[b * C + c]!;
          dy[i * C + c] = w * g;
          dw += g * y[i * C + c]!;
        }
        this.dGateWeight[slot] = dw;
      }
      accumulateOuter(h, n, H, dy, C, gx.w2);
      accumulateColumnSums(dy, n, C, gx.b2);
      const dh = this.dHidden;
      const w2 = ex.w2;
      for (let i = 0; i < n; i++) {
        const ho = i * H;
        const yo = i * C;
        for (let k = 0; k < H; k++) {
          if (h[ho + k]! <= 0) {
            dh[ho + k] = 0;
            continue;
          }
          const wo = k * C;
          let s = 0;
          for (let c = 0; c < C; c++) s += dy[yo + c]! * w2[wo + c]!;
          dh[ho + k] = s;
        }
      }
      for (let i = 0; i < n; i++) this.sampleRows[i] = batch[rows[i]!]!;
      accumulateOuterRows(x, this.sampleRows, n, D, dh, H, gx.w1);
      accumulateColumnSums(dh, n, H, gx.b1);
    }

    // Gate backward: top-k softmax Jacobian, plus the load-balancing term through the full softmax.
    let aux = 0;
    const dz = this.dGateLogits;
    dz.fill(0, 0, B * E);
    const scale = (auxWeight * E) / B;
    for (let e = 0; e < E; e++) {
      const f = this.counts[e]! / (B * K);
      let pMean = 0;
      for (let b = 0; b < B; b++) pMean += this.gateProbs[b * E + e]!;
      aux += auxWeight * E * f * (pMean / B);
    }
    for (let b = 0; b < B; b++) {
      const zo = b * E;
      let dot = 0;
      for (let s = 0; s < K; s++) dot += this.gateWeight[b * K + s]! * this.dGateWeight[b * K + s]!;
      for (let s = 0; s < K; s++) {
        const w = this.gateWeight[b * K + s]!;
        const at = zo + this.chosen[b * K + s]!;
        dz[at] = dz[at]! + w * (this.dGateWeight[b * K + s]! - dot);
      }
      if (auxWeight !== 0) {
        // ∂aux/∂p_e = scale · f_e; through the softmax: p_j (dp_j − Σ_i p_i dp_i).
        let pdp = 0;
        for (let e = 0; e < E; e++) pdp += this.gateProbs[zo + e]! * (this.counts[e]! / (B * K));
        for (let e = 0; e < E; e++) {
          const p = this.gateProbs[zo + e]!;
          dz[zo + e] = dz[zo + e]! + scale * p * (this.counts[e]! / (B * K) - pdp);
        }
      }
    }
    accumulateOuterRows(x, batch, B, D, dz, E, grads.gateW);
    accumulateColumnSums(dz, B, E, grads.gateB);

    return { ce, aux, correct, counts: Array.from(this.counts) };
  }
}

function zero(p: MoeParams): void {
  p.gateW.fill(0);
  p.gateB.fill(0);
  for (const e of p.experts) {
    e.w1.fill(0);
    e.b1.fill(0);
    e.w2.fill(0);
    e.b2.fill(0);
  }
}
