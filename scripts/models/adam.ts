/** Adam (Kingma & Ba) with bias correction over a fixed list of parameter tensors. */
export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private step = 0;

  constructor(
    private readonly params: readonly Float32Array[],
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** θ ← θ − lr · m̂ / (√v̂ + ε), for gradients in the same order as the parameters. */
  update(grads: readonly Float32Array[], lr: number): void {
    this.step++;
    const { beta1: b1, beta2: b2, epsilon } = this;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    const stepSize = (lr * Math.sqrt(c2)) / c1;
    const eps = epsilon * Math.sqrt(c2);
    for (let t = 0; t < this.params.length; t++) {
      const p = this.params[t]!;
      const g = grads[t]!;
      const m = this.m[t]!;
      const v = this.v[t]!;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i]! - (stepSize * mi) / (Math.sqrt(vi) + eps);
      }
    }
  }
}
