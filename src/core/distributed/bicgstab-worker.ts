import { dot } from "./local-block.ts";
import type { BlockData, FromWorker, ToWorker } from "../protocol/distributed.ts";
import { WorkerBase } from "./worker-base.ts";

/**
 * One block of right-preconditioned BiCGSTAB with block-Jacobi M = diag(M_I). Per iteration, two halo
 * exchanges and two reductions:
 *   p̂ = M⁻¹p → halo → v = A p̂, phase 0 partials [(r̂₀,v), (r,r), (r̂₀,r)] → [α]
 *   s = r − αv, ŝ = M⁻¹s → halo → t = A ŝ, phase 1 partials [(t,s), (t,t), (r̂₀,s), (r̂₀,t)] → [ω, β]
 *   x += αp̂ + ωŝ, r = s − ωt, p = r + β(p − ωv).
 * ρ_new = (r̂₀,s) − ω(r̂₀,t) is formed by the coordinator from phase 1, so β needs no third reduction.
 */
export class BicgstabWorker extends WorkerBase {
  private readonly r0: Float64Array;
  private readonly p: Float64Array;
  private readonly ph: Float64Array;
  private readonly v: Float64Array;
  private readonly sv: Float64Array;
  private readonly sh: Float64Array;
  private readonly t: Float64Array;
  private alpha = 0;
  /** Which halo comes next: p̂ (phase 0) or ŝ (phase 1). */
  private phase: 0 | 1 = 0;

  constructor(data: BlockData) {
    super(data);
    this.r0 = this.blk.vec();
    this.p = this.blk.vec();
    this.ph = this.blk.vec();
    this.v = this.blk.vec();
    this.sv = this.blk.vec();
    this.sh = this.blk.vec();
    this.t = this.blk.vec();
  }

  protected startRecurrence(): FromWorker {
    this.r0.set(this.r);
    this.p.set(this.r);
    return this.nextPHat();
  }

  private nextPHat(checkpointIteration?: number): FromWorker {
    this.blk.pre.apply(this.p, this.ph);
    this.phase = 0;
    this.seq++;
    return this.haloOut(this.ph, checkpointIteration);
  }

  protected onHalo(): FromWorker {
    if (this.phase === 0) {
      this.blk.spmv(this.ph, this.v);
      return this.dotsOut(0, [dot(this.r0, this.v), dot(this.r, this.r), dot(this.r0, this.r)]);
    }
    this.blk.spmv(this.sh, this.t);
    const { t, sv, r0 } = this;
    return this.dotsOut(1, [dot(t, sv), dot(t, t), dot(r0, sv), dot(r0, t)]);
  }

  protected onScalars(msg: Extract<ToWorker, { type: "scalars" }>): FromWorker {
    const { x, r, p, v, sv, sh, ph, t } = this;
    if (this.phase === 0) {
      const alpha = msg.values[0];
      if (alpha === undefined) return this.error("bad_message", "bicgstab phase 0 needs [alpha]");
      this.alpha = alpha;
      for (let i = 0; i < sv.length; i++) sv[i] = r[i]! - alpha * v[i]!;
      this.blk.pre.apply(sv, sh);
      this.phase = 1;
      this.seq++;
      return this.haloOut(sh);
    }
    const [omega, beta] = msg.values;
    if (omega === undefined || beta === undefined)
      return this.error("bad_message", "bicgstab phase 1 needs [omega, beta]");
    const alpha = this.alpha;
    for (let i = 0; i < x.length; i++) {
      x[i] = x[i]! + alpha * ph[i]! + omega * sh[i]!;
      const ri = sv[i]! - omega * t[i]!;
      r[i] = ri;
      p[i] = ri + beta * (p[i]! - omega * v[i]!);
    }
    return this.nextPHat(msg.checkpoint ? msg.iteration : undefined);
  }
}
