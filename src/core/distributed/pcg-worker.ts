import type { BlockData, FromWorker, ToWorker } from "../protocol/distributed.ts";
import { WorkerBase } from "./worker-base.ts";

/**
 * One block of Chronopoulos–Gear preconditioned CG (one reduction per iteration). Per iteration:
 *   u = M_I⁻¹ r → halo of u → w = A_I u, partials [(r,u), (w,u), (r,r)] → coordinator sums and sends
 *   [α, β] → p = u + βp, s = w + βs, x += αp, r −= αs → next u.
 * s = A p is carried by the recurrence instead of computed, which is what removes the second reduction.
 */
export class PcgWorker extends WorkerBase {
  private readonly u: Float64Array;
  private readonly w: Float64Array;
  private readonly p: Float64Array;
  private readonly s: Float64Array;

  constructor(data: BlockData) {
    super(data);
    this.u = this.blk.vec();
    this.w = this.blk.vec();
    this.p = this.blk.vec();
    this.s = this.blk.vec();
  }

  protected startRecurrence(): FromWorker {
    this.p.fill(0);
    this.s.fill(0);
    return this.nextU();
  }

  private nextU(checkpointIteration?: number): FromWorker {
    this.blk.pre.apply(this.r, this.u);
    this.seq++;
    return this.haloOut(this.u, checkpointIteration);
  }

  protected onHalo(): FromWorker {
    const { u, w, r } = this;
    this.blk.spmv(u, w);
    // One pass for the three partials: the loop is memory-bound.
    let ru = 0;
    let wu = 0;
    let rr = 0;
    for (let i = 0; i < r.length; i++) {
      const ri = r[i]!;
      const ui = u[i]!;
      ru += ri * ui;
      wu += w[i]! * ui;
      rr += ri * ri;
    }
    return this.dotsOut(0, [ru, wu, rr]);
  }

  protected onScalars(msg: Extract<ToWorker, { type: "scalars" }>): FromWorker {
    const [alpha, beta] = msg.values;
    if (alpha === undefined || beta === undefined)
      return this.error("bad_message", "pcg needs [alpha, beta]");
    const { u, w, p, s, x, r } = this;
    for (let i = 0; i < x.length; i++) {
      const pi = u[i]! + beta * p[i]!;
      const si = w[i]! + beta * s[i]!;
      p[i] = pi;
      s[i] = si;
      x[i] = x[i]! + alpha * pi;
      r[i] = r[i]! - alpha * si;
    }
    return this.nextU(msg.checkpoint ? msg.iteration : undefined);
  }
}
