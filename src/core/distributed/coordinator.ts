import type { CsrMatrix } from "../sparse/csr.ts";
import { JobError } from "../protocol/job-errors.ts";
import { partitionRows } from "./partition.ts";
import type { RowPartition } from "./partition.ts";
import { relativeResidual } from "../solver/certificate.ts";
import { buildBlockData } from "./block-data.ts";
import { CheckpointStore } from "./checkpoint.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { DISTRIBUTED_PROTOCOL_VERSION, fromWorkerSchema } from "../protocol/distributed.ts";
import type { BlockData, FromWorker, HaloPart, ToWorker } from "../protocol/distributed.ts";
import { scalarRuleFor } from "./scalar-rules.ts";
import { BlockAuditor } from "./audit.ts";
import { HaloMirror } from "./halo-mirror.ts";
import { HaloRelay } from "./halo-relay.ts";
import type {
  Blame,
  DistributedOptions,
  DistributedResult,
  DistributedStopReason,
  HaloRouting,
  Outgoing,
} from "./coordinator-types.ts";

import type { ScalarRule } from "./scalar-rules.ts";

/** "suspended": a block holder was blamed; nothing moves until its block has a new holder (workerLost). */
type State = "idle" | "running" | "gathering" | "suspended" | "done";

/**
 * The requester's side of a distributed solve: partitions A, hands out BlockData, sums the workers'
 * partials in block order (so the result does not depend on arrival order), broadcasts the scalars,
 * routes halos (unless the transport routes them peer to peer), keeps the last consistent checkpoint and
 * restarts from it when a worker is lost, and certifies the gathered x. Every method returns the
 * messages to send; nothing here knows about the transport.
 */
export class Coordinator {
  readonly partition: RowPartition;
  readonly label: string;
  private readonly rule: ScalarRule;
  private readonly checkpoints: CheckpointStore;
  private readonly bNorm: number;
  private readonly every: number;
  private state: State = "idle";
  private epoch = 0;
  private iterations: number;
  private readonly startIteration: number;
  private failovers = 0;
  private driftRestarts = 0;
  private checkpointAsked = false;
  private stopReason: DistributedStopReason = "converged";
  private detail: string | undefined;
  private readonly history: number[] = [];
  private halos = new Map<number, HaloPart[]>();
  private haloSeq = -1;
  private dots: (readonly number[] | undefined)[] = [];
  private gathered: (Float64Array | undefined)[] = [];
  private preconditioners: string[] = [];
  private finalResult: DistributedResult | null = null;
  /** What the holders' halos implied about their x (coordinator routing only). */
  private mirror: HaloMirror | null;
  private routing: HaloRouting;
  private peerFallbacks = 0;
  /** Peer routing: parts of neighbours without a link, passed on here. */
  private readonly relay: HaloRelay;
  /** Peer routing: each block's checkpoint r, audited against the whole iterate once it is complete. */
  private pendingR: (Float64Array | undefined)[] = [];
  private readonly auditor: BlockAuditor;
  private blame: Blame | null = null;
  private blamed = 0;
  /** Σ r² a block's checkpoint r implies, until its next residual partial arrives (check 3). */
  private expectedRr: (Float64Array | undefined)[] = [];
  /** Each block's latest residual partial (for the gather's check 3). */
  private lastRr: (number | undefined)[] = [];

  constructor(
    readonly a: CsrMatrix,
    readonly b: Float64Array,
    k: number,
    readonly options: DistributedOptions,
  ) {
    if (b.length !== a.rows)
      throw new JobError("invalid_spec", `b has ${b.length} entries, A has ${a.rows} rows`);
    if (options.x0 !== undefined && options.x0.length !== a.rows) {
      throw new JobError("invalid_spec", `x0 has ${options.x0.length} entries, A has ${a.rows} rows`);
    }
    const start = options.startIteration ?? 0;
    if (!Number.isInteger(start) || start < 0 || (start > 0 && options.x0 === undefined)) {
      throw new JobError("invalid_spec", `startIteration ${start} needs an integer ≥ 0 and its x0`);
    }
    this.startIteration = start;
    this.iterations = start;
    if (!(options.tol > 0) || !Number.isInteger(options.maxIter) || options.maxIter < 1) {
      throw new JobError("invalid_spec", `tol ${options.tol} must be > 0 and maxIter ${options.maxIter} ≥ 1`);
    }
    this.partition = partitionRows(a, k); // throws JobError("invalid_partition") for a bad k
    this.relay = new HaloRelay(this.partition);
    this.rule = scalarRuleFor(options.method);
    const x0 = options.x0 ?? new Float64Array(a.rows);
    this.checkpoints = new CheckpointStore(this.partition, x0, start);
    let bb = 0;
    for (let i = 0; i < b.length; i++) bb += b[i]! * b[i]!;
    this.bNorm = Math.sqrt(bb);
    this.every = options.checkpointEvery ?? 10;
    const pre = options.preconditioner ?? (options.method === "pcg" ? "ic0" : "ilu0");
    this.label = `distributed-${options.method}+block-${pre}(k=${k})`;
    this.routing = options.haloRouting ?? "coordinator";
    this.mirror = this.routing === "peer" ? null : new HaloMirror(options.method);
    this.auditor = new BlockAuditor(
      a,
      b,
      this.partition,
      this.mirror,
      options.random ?? Math.random,
      options.auditRows ?? 16,
    );
  }

  get blocks(): number {
    return this.partition.blocks.length;
  }
  get iteration(): number {
    return this.iterations;
  }
  get checkpoint(): Checkpoint {
    return this.checkpoints.committed;
  }
  get result(): DistributedResult | null {
    return this.finalResult;
  }
  /** How halos travel in the current epoch (the transport reads it at each restart). */
  get haloRouting(): HaloRouting {
    return this.routing;
  }

  /** The holder the audit caught, once (then null): move its block, then call workerLost. */
  takeBlame(): Blame | null {
    const blame = this.blame;
    this.blame = null;
    return blame;
  }

  /** What the worker taking block j needs (x = the last consistent checkpoint's block). */
  blockData(j: number): BlockData {
    const block = this.partition.blocks[j];
    if (block === undefined) throw new RangeError(`no block ${j}`);
    const pre = this.options.preconditioner ?? (this.options.method === "pcg" ? "ic0" : "ilu0");
    return buildBlockData(
      this.a,
      this.partition,
      block,
      this.b,
      this.checkpoints.committed.x,
      this.options.method,
      pre,
    );
  }

  /** First epoch: every worker (already initialised with blockData) restarts from its x. */
  start(): Outgoing[] {
    if (this.state !== "idle") return [];
    return this.restartAll(() => ({}));
  }

  /** Asks for a consistent x with the next update (on top of the every-c-iterations ones). */
  requestCheckpoint(): void {
    this.checkpointAsked = true;
  }

  /**
   * Block j's worker is gone. The transport must initialise its replacement with blockData(j) and then
   * deliver the returned messages: all blocks roll back to the committed checkpoint (survivors from their
   * own copy, the replacement from the x sent) and the Krylov recurrence restarts from r = b − A x.
   */
  workerLost(j: number): Outgoing[] {
    if (this.state === "done" || j < 0 || j >= this.blocks) return [];
    this.failovers++;
    return this.rollback(j);
  }

  /** Every block restarts from the committed checkpoint; block j (if any) gets its x sent. */
  private rollback(j: number): Outgoing[] {
    this.checkpoints.dropPending();
    const cp = this.checkpoints.committed;
    // Nobody kept the start checkpoint (holders got it in their block data): send it to everyone.
    return this.restartAll((i) =>
      i === j || cp.iteration === this.startIteration
        ? { x: this.checkpoints.blockOf(i), fromCheckpoint: cp.iteration }
        : { fromCheckpoint: cp.iteration },
    );
  }

  onWorkerMessage(block: number, raw: unknown): Outgoing[] {
    const parsed = fromWorkerSchema.safeParse(raw);
    if (!parsed.success)
      return this.fail(`block ${block}: malformed message (${parsed.error.issues[0]?.message})`);
    const msg = parsed.data;
    if (msg.type === "error") {
      if (msg.code === "stale" || (msg.epoch !== undefined && msg.epoch < this.epoch)) return [];
      return this.fail(`block ${block}: ${msg.code}: ${msg.message}`);
    }
    // Stale (an older epoch, a lost worker's last words) or misaddressed: ignore.
    if (msg.block !== block || msg.epoch !== this.epoch) return [];
    if (this.state === "done" || this.state === "idle" || this.state === "suspended") return [];
    if (msg.type === "halo") return this.onHalo(msg);
    if (msg.type === "dots") return this.onDots(msg);
    return this.onX(msg);
  }

  private restartAll(
    extra: (i: number) => { x?: Float64Array<ArrayBuffer>; fromCheckpoint?: number },
  ): Outgoing[] {
    this.epoch++;
    this.state = "running";
    this.rule.reset();
    this.halos = new Map();
    this.haloSeq = -1;
    this.dots = [];
    this.gathered = [];
    this.mirror?.reset();
    this.expectedRr = [];
    this.lastRr = [];
    this.pendingR = [];
    return this.partition.blocks.map((_, i) => ({
      to: i,
      message: { v: DISTRIBUTED_PROTOCOL_VERSION, type: "restart", epoch: this.epoch, ...extra(i) },
    }));
  }

  private onHalo(msg: Extract<FromWorker, { type: "halo" }>): Outgoing[] {
    if (msg.checkpoint !== undefined) {
      const { iteration, x, r } = msg.checkpoint;
      // Without a mirror (peer routing) only the block's own rows are judged here: its own data, so a
      // failure still names it alone.
      const bad = this.auditor.check(msg.block, x, r);
      if (bad !== null) return this.suspend(msg.block, `checkpoint ${iteration}: ${bad}`);
      this.expectedRr[msg.block] = r;
      this.pendingR[msg.block] = r;
      const added = this.checkpoints.add(msg.block, iteration, x, (global) => this.peerAudit(global));
      if (added === "committed") this.options.onCheckpoint?.(this.checkpoints.committed);
      if (added === "refused") return this.fallBackToCoordinatorRouting();
    }
    if (this.state !== "running") return [];
    if (this.routing === "peer") {
      const relayed = this.relay.relay(msg, this.epoch);
      // Its own block's parts, so a bad one names it alone: blamed, its block moves (no solve lost).
      return typeof relayed === "string" ? this.suspend(msg.block, relayed) : relayed;
    }
    if (msg.seq !== this.haloSeq) {
      this.halos = new Map();
      this.haloSeq = msg.seq;
    }
    if (msg.parts.some((p) => p.fromBlock !== msg.block || p.epoch !== this.epoch || p.seq !== msg.seq)) {
      return this.fail(`block ${msg.block}: a halo part claims another sender, epoch or seq`);
    }
    this.halos.set(msg.block, msg.parts);
    if (this.halos.size < this.blocks) return [];
    const inbox: HaloPart[][] = this.partition.blocks.map(() => []);
    for (let i = 0; i < this.blocks; i++)
      for (const part of this.halos.get(i)!) inbox[part.toBlock]?.push(part);
    this.halos = new Map();
    for (const parts of inbox) this.mirror?.routed(msg.seq, parts);
    return inbox.map((parts, i) => ({
      to: i,
      message: { v: DISTRIBUTED_PROTOCOL_VERSION, type: "halo", epoch: this.epoch, seq: msg.seq, parts },
    }));
  }

  private onDots(msg: Extract<FromWorker, { type: "dots" }>): Outgoing[] {
    if (this.state !== "running") return [];
    if (msg.partials.length !== this.rule.partialsPerPhase[msg.phase]) {
      return this.fail(
        `block ${msg.block}: phase ${msg.phase} needs ${this.rule.partialsPerPhase[msg.phase]} partials`,
      );
    }
    const at = this.rule.residualAt;
    if (msg.phase === at.phase) {
      const partial = msg.partials[at.index]!;
      const r = this.expectedRr[msg.block];
      this.expectedRr[msg.block] = undefined;
      if (r !== undefined && !BlockAuditor.residualPartialAgrees(r, partial)) {
        return this.suspend(msg.block, `its (r,r) partial ${partial} is not that of the r it checkpointed`);
      }
      this.lastRr[msg.block] = partial;
    }
    this.dots[msg.block] = msg.partials;
    for (let i = 0; i < this.blocks; i++) if (this.dots[i] === undefined) return [];
    // Fixed block order: the sums, hence α, β and the iterates, do not depend on message arrival order.
    const sums = new Array<number>(msg.partials.length).fill(0);
    for (const d of this.dots) d!.forEach((v, i) => (sums[i] = sums[i]! + v));
    this.dots = [];
    if (msg.phase === at.phase) {
      const rel = Math.sqrt(Math.max(0, sums[at.index]!)) / (this.bNorm || 1);
      this.history[this.iterations] = rel;
      this.options.onIteration?.(this.iterations, rel);
      if (rel <= this.options.tol) return this.gather("converged");
      if (this.iterations >= this.options.maxIter) return this.gather("max-iterations");
    }
    const red = this.rule.reduce(msg.phase, sums);
    if ("breakdown" in red) return this.gather("breakdown", red.breakdown);
    this.mirror?.scalars(msg.phase, red.scalars);
    let checkpoint = false;
    if (red.completesIteration) {
      this.iterations++;
      checkpoint = this.checkpointAsked || (this.every > 0 && this.iterations % this.every === 0);
      this.checkpointAsked = false;
    }
    return this.broadcast((epoch) => ({
      v: DISTRIBUTED_PROTOCOL_VERSION,
      type: "scalars",
      epoch,
      iteration: this.iterations,
      values: red.scalars,
      checkpoint,
    }));
  }

  /** Peer routing: every block's checkpoint rows against the whole iterate (audit.ts checkAgainst). */
  private peerAudit(global: Float64Array): boolean {
    if (this.routing !== "peer") return true;
    for (let i = 0; i < this.blocks; i++) {
      const blk = this.partition.blocks[i]!;
      const r = this.pendingR[i];
      if (r === undefined) return false;
      if (this.auditor.checkAgainst(i, global.subarray(blk.rowStart, blk.rowEnd), r, global) !== null)
        return false;
    }
    return true;
  }

  /**
   * A peer-routed checkpoint is inconsistent, and the requester cannot tell who lied (no halo passed
   * through it): from the last committed checkpoint on, halos go through the coordinator again, whose
   * audit names the liar if it keeps lying. A liar that stops has cost one rollback.
   */
  private fallBackToCoordinatorRouting(): Outgoing[] {
    this.peerFallbacks++;
    this.routing = "coordinator";
    this.mirror = new HaloMirror(this.options.method);
    this.auditor.useMirror(this.mirror);
    return this.rollback(-1);
  }

  private gather(reason: DistributedStopReason, detail?: string): Outgoing[] {
    this.state = "gathering";
    this.stopReason = reason;
    this.detail = detail;
    this.gathered = [];
    return this.broadcast((epoch) => ({ v: DISTRIBUTED_PROTOCOL_VERSION, type: "gather", epoch }));
  }

  private onX(msg: Extract<FromWorker, { type: "x" }>): Outgoing[] {
    const blk = this.partition.blocks[msg.block]!;
    if (this.state !== "gathering") return [];
    if (msg.x.length !== blk.rowEnd - blk.rowStart)
      return this.fail(`block ${msg.block}: x has the wrong length`);
    const bad = this.auditor.check(msg.block, msg.x, msg.r);
    if (bad !== null) return this.suspend(msg.block, `gather: ${bad}`);
    const partial = this.lastRr[msg.block];
    if (partial !== undefined && !BlockAuditor.residualPartialAgrees(msg.r, partial)) {
      return this.suspend(msg.block, `gather: its last (r,r) partial ${partial} is not that of its r`);
    }
    this.gathered[msg.block] = msg.x;
    this.preconditioners[msg.block] = msg.preconditioner;
    for (let i = 0; i < this.blocks; i++) if (this.gathered[i] === undefined) return [];
    const x = new Float64Array(this.a.rows);
    this.partition.blocks.forEach((bk, i) => x.set(this.gathered[i]!, bk.rowStart));
    const rel = relativeResidual(this.a, x, this.b);
    const converged = rel <= this.options.tol;
    if (
      !converged &&
      this.stopReason === "converged" &&
      this.driftRestarts < (this.options.maxDriftRestarts ?? 5)
    ) {
      // The recursive residual drifted from b − A x: restart the recurrence from this x (workers keep it).
      this.driftRestarts++;
      return this.restartAll(() => ({}));
    }
    this.finish(x, rel, converged);
    return [];
  }

  private finish(x: Float64Array, relResidual: number, converged: boolean): void {
    this.state = "done";
    const reason = converged
      ? "converged"
      : this.stopReason === "converged"
        ? "max-iterations"
        : this.stopReason;
    this.finalResult = {
      x,
      converged,
      reason,
      relResidual,
      iterations: this.iterations,
      resumedFrom: this.startIteration,
      failovers: this.failovers,
      driftRestarts: this.driftRestarts,
      blamed: this.blamed,
      peerFallbacks: this.peerFallbacks,
      relayedHaloParts: this.relay.parts,
      relayedHaloPairs: this.relay.pairs,
      haloRouting: this.routing,
      residualHistory: this.history,
      label: this.label,
      blockPreconditioners: [...this.preconditioners],
      ...(this.detail === undefined ? {} : { detail: this.detail }),
    };
  }

  /**
   * The audit caught block `block`'s holder (audit.ts): its partial checkpoint is dropped, nothing moves
   * until the transport gives the block a new holder (takeBlame, then workerLost), and then every block
   * restarts from the last committed checkpoint, which every holder's audit passed.
   */
  private suspend(block: number, detail: string): Outgoing[] {
    if (this.state === "done") return [];
    this.state = "suspended";
    this.checkpoints.dropPending();
    this.blamed++;
    this.blame = { block, detail: `block ${block}: ${detail}`.slice(0, 400) };
    return [];
  }

  /** A worker reported an error or sent garbage: stop, returning the last consistent checkpoint, certified. */
  private fail(detail: string): Outgoing[] {
    if (this.state === "done") return [];
    this.stopReason = "worker-error";
    this.detail = detail;
    const cp = this.checkpoints.committed;
    this.finish(cp.x, relativeResidual(this.a, cp.x, this.b), false);
    return [];
  }

  private broadcast(make: (epoch: number) => ToWorker): Outgoing[] {
    return this.partition.blocks.map((_, i) => ({ to: i, message: make(this.epoch) }));
  }
}
