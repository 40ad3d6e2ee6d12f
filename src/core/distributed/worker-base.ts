import { LocalBlock } from "./local-block.ts";
import { DISTRIBUTED_PROTOCOL_VERSION } from "../protocol/distributed.ts";
import type { BlockData, FromWorker, HaloPart, ToWorker, WorkerErrorCode } from "../protocol/distributed.ts";

type HaloMsg = Extract<ToWorker, { type: "halo" }>;
type ScalarsMsg = Extract<ToWorker, { type: "scalars" }>;
type RestartMsg = Extract<ToWorker, { type: "restart" }>;

/** How many checkpoints a worker keeps: the committed one and at most one newer (see README). */
const KEPT_CHECKPOINTS = 2;

/**
 * What every block worker does whatever the Krylov method: epochs, restarts from x (given, checkpointed or
 * current), the first halo exchange of x (to form r = b − A x), checkpoints and gather. Subclasses handle
 * the method's own halos and scalars and say which message they wait for next.
 */
export abstract class WorkerBase {
  protected readonly blk: LocalBlock;
  protected readonly x: Float64Array;
  protected readonly r: Float64Array;
  protected epoch = -1;
  protected seq = 0;
  /** What the next message must be; "restart" until the coordinator starts an epoch. */
  protected expecting: "restart" | "halo" | "scalars" = "restart";
  private readonly checkpoints: { iteration: number; x: Float64Array }[] = [];

  constructor(data: BlockData) {
    this.blk = new LocalBlock(data);
    this.x = data.x.slice();
    this.r = this.blk.vec();
  }

  get block(): number {
    return this.blk.data.block;
  }
  get preconditionerName(): string {
    return this.blk.pre.name;
  }

  step(msg: ToWorker): FromWorker {
    if (msg.type === "restart") return this.restart(msg);
    if (msg.epoch < this.epoch) {
      // In flight when a restart overtook it: harmless, and the coordinator ignores the answer.
      return { ...this.error("stale", `epoch ${msg.epoch}, worker is at ${this.epoch}`), epoch: msg.epoch };
    }
    if (msg.epoch > this.epoch) return this.error("out_of_order", `epoch ${msg.epoch} before its restart`);
    if (msg.type === "gather") {
      return {
        v: DISTRIBUTED_PROTOCOL_VERSION,
        type: "x",
        block: this.block,
        epoch: this.epoch,
        x: this.x.slice(),
        r: this.r.slice(),
        preconditioner: this.blk.pre.name.slice(0, 64),
      };
    }
    if (msg.type !== this.expecting)
      return this.error("out_of_order", `got ${msg.type}, expected ${this.expecting}`);
    if (msg.type === "halo") {
      if (msg.seq !== this.seq)
        return this.error("out_of_order", `halo seq ${msg.seq}, expected ${this.seq}`);
      const wrong = this.blk.importParts(msg.parts, this.epoch, this.seq);
      if (wrong !== null) return this.error("bad_message", wrong);
      return this.seq === 0 ? this.afterXHalo() : this.onHalo(msg);
    }
    return this.onScalars(msg);
  }

  private restart(msg: RestartMsg): FromWorker {
    if (msg.epoch <= this.epoch)
      return this.error("out_of_order", `restart epoch ${msg.epoch} ≤ ${this.epoch}`);
    if (msg.x !== undefined) {
      if (msg.x.length !== this.x.length) return this.error("bad_message", `x has ${msg.x.length} entries`);
      this.x.set(msg.x);
      // A replacement keeps the checkpoint it was given: a later failover may roll back to it again.
      if (msg.fromCheckpoint !== undefined) {
        this.checkpoints.length = 0;
        this.keepCheckpoint(msg.fromCheckpoint, msg.x.slice());
      }
    } else if (msg.fromCheckpoint !== undefined) {
      const cp = this.checkpoints.find((c) => c.iteration === msg.fromCheckpoint);
      if (cp === undefined)
        return this.error("no_checkpoint", `no checkpoint of iteration ${msg.fromCheckpoint}`);
      this.x.set(cp.x);
      // Newer ones belong to the abandoned timeline; keeping them could push out the one to roll back to.
      this.checkpoints.splice(0, this.checkpoints.length, cp);
    }
    this.epoch = msg.epoch;
    this.seq = 0;
    this.expecting = "halo";
    return this.haloOut(this.x);
  }

  /** r = b − A x with the halo of x just received; then the method's first step. */
  private afterXHalo(): FromWorker {
    const { b } = this.blk.data;
    this.blk.spmv(this.x, this.r);
    for (let i = 0; i < this.r.length; i++) this.r[i] = b[i]! - this.r[i]!;
    return this.startRecurrence();
  }

  protected abstract startRecurrence(): FromWorker;
  protected abstract onHalo(msg: HaloMsg): FromWorker;
  protected abstract onScalars(msg: ScalarsMsg): FromWorker;

  /** The next halo exchange of `own`; attaches x as checkpoint `iteration` when asked. */
  protected haloOut(own: Float64Array, checkpointIteration?: number): FromWorker {
    const parts: HaloPart[] = this.blk.exportParts(own, this.epoch, this.seq);
    this.expecting = "halo";
    const msg: FromWorker = {
      v: DISTRIBUTED_PROTOCOL_VERSION,
      type: "halo",
      block: this.block,
      epoch: this.epoch,
      seq: this.seq,
      parts,
    };
    if (checkpointIteration === undefined) return msg;
    const x = this.x.slice();
    this.keepCheckpoint(checkpointIteration, x);
    return { ...msg, checkpoint: { iteration: checkpointIteration, x, r: this.r.slice() } };
  }

  private keepCheckpoint(iteration: number, x: Float64Array): void {
    const i = this.checkpoints.findIndex((c) => c.iteration === iteration);
    if (i >= 0) this.checkpoints.splice(i, 1);
    this.checkpoints.push({ iteration, x });
    if (this.checkpoints.length > KEPT_CHECKPOINTS) this.checkpoints.shift();
  }

  protected dotsOut(phase: number, partials: number[]): FromWorker {
    this.expecting = "scalars";
    if (!partials.every(Number.isFinite))
      return this.error("bad_message", "a local dot product is not finite");
    return {
      v: DISTRIBUTED_PROTOCOL_VERSION,
      type: "dots",
      block: this.block,
      epoch: this.epoch,
      phase,
      partials,
    };
  }

  protected error(code: WorkerErrorCode, message: string): FromWorker {
    return {
      v: DISTRIBUTED_PROTOCOL_VERSION,
      type: "error",
      block: this.block,
      code,
      message: message.slice(0, 512),
    };
  }
}
