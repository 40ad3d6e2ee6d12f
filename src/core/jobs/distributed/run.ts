import { Coordinator, DISTRIBUTED_PROTOCOL_VERSION, fromWorkerSchema } from "../../distributed/index.ts";
import type { Checkpoint, DistributedResult, HaloRouting, Outgoing } from "../../distributed/index.ts";
import type { HaloPeers } from "../../protocol/distributed-peers.ts";
import type { CsrMatrix } from "../../sparse/csr.ts";
import { profileMatrix } from "../../solver/inspect.ts";
import type { DistEnvelope } from "../../protocol/distributed-frame.ts";

/**
 * One distributed solve on the requester: the Coordinator (distributed/coordinator.ts) plus where each
 * row block lives. The scheduler places the job's row-block units like any unit (leases, heartbeats,
 * reissue on disconnect); this class turns each placement into an `init` with the block's data, starts
 * the solve once every block has a holder, routes the coordinator's messages to the holders, tells them
 * before every epoch how halos travel (peer to peer between the holders it names, by default, or through
 * the coordinator after a fallback: halo-inbox.ts), and on a re-placement calls `workerLost` so the
 * solve continues from the last consistent checkpoint. The block of an incoming message comes from the
 * placement (unit id and attempt of an authenticated sender), never from the message. When the
 * coordinator's audit (distributed/audit.ts) catches a holder, `onBlame` names it: the requester bans it
 * and the scheduler moves the block, which resumes the solve from the last checkpoint every holder passed.
 */

export interface Holder {
  readonly block: number;
  readonly unitId: string;
  readonly attempt: number;
  readonly volunteerId: string;
  /** Sends to this holder, in order (its init first). */
  chain: Promise<void>;
}

export interface DistributedRunOptions {
  readonly jobId: string;
  readonly a: CsrMatrix;
  readonly b: Float64Array;
  readonly blocks: number;
  readonly tol: number;
  readonly maxIter: number;
  readonly heartbeatIntervalMs: number;
  /**
   * "peer" (default): holders ask the overlay for links to their neighbours and send halo parts straight
   * to them (halo-links.ts, halo-inbox.ts); a pair without a link sends through the requester, which
   * relays (distributed/halo-relay.ts). The requester then mostly sees reductions and checkpoints.
   * "coordinator": every halo goes through the requester.
   */
  readonly haloRouting?: HaloRouting;
  /** A persisted checkpoint of this solve (checkpoint-blob.ts): the solve resumes from it. */
  readonly resume?: Checkpoint | null;
  /** Each committed checkpoint, to persist. */
  readonly onCheckpoint?: (checkpoint: Checkpoint) => void;
  readonly send: (to: string, envelope: DistEnvelope) => Promise<void>;
  readonly onIteration: (iteration: number, relResidual: number) => void;
  readonly onResult: (result: DistributedResult) => void;
  /** The coordinator's audit caught this holder sending wrong values (its block must move). */
  readonly onBlame: (holder: Holder, detail: string) => void;
  readonly onSendFailed: (holder: Holder, error: unknown) => void;
}

/** PCG for systems that look SPD (symmetric, positive diagonal), BiCGSTAB otherwise. */
export function distributedMethodFor(a: CsrMatrix): "pcg" | "bicgstab" {
  const p = profileMatrix(a);
  return p.symmetric && p.positiveDiagonal ? "pcg" : "bicgstab";
}

export class DistributedRun {
  readonly coordinator: Coordinator;
  readonly #o: DistributedRunOptions;
  readonly #holders = new Map<number, Holder>();
  #started = false;
  #done = false;

  constructor(options: DistributedRunOptions) {
    this.#o = options;
    this.coordinator = new Coordinator(options.a, options.b, options.blocks, {
      method: distributedMethodFor(options.a),
      tol: options.tol,
      maxIter: options.maxIter,
      haloRouting: options.haloRouting ?? "peer",
      ...(options.resume ? { x0: options.resume.x, startIteration: options.resume.iteration } : {}),
      ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
      onIteration: (iteration, rel) => options.onIteration(iteration, rel),
    });
  }

  get done(): boolean {
    return this.#done;
  }

  holder(block: number): Holder | undefined {
    return this.#holders.get(block);
  }

  holders(): Holder[] {
    return [...this.#holders.values()];
  }

  /** The scheduler leased block `block` (unit `unitId`, attempt) to `volunteerId`. */
  place(block: number, unitId: string, attempt: number, volunteerId: string): void {
    if (this.#done) return;
    const previous = this.#holders.get(block);
    if (previous !== undefined && previous.attempt >= attempt) return;
    const holder: Holder = { block, unitId, attempt, volunteerId, chain: Promise.resolve() };
    this.#holders.set(block, holder);
    const data = this.coordinator.blockData(block);
    this.#sendTo(holder, {
      kind: "init",
      unitId,
      attempt,
      message: { heartbeatIntervalMs: this.#o.heartbeatIntervalMs, data },
    });
    if (this.#started) {
      // The new holder is initialised first (same ordered chain), then everyone restarts from the checkpoint.
      this.#route(this.coordinator.workerLost(block));
    } else if (this.#holders.size === this.coordinator.blocks) {
      this.#started = true;
      this.#route(this.coordinator.start());
    }
  }

  /** A message from a volunteer; ignored unless it is the current holder of that unit and attempt. */
  onMessage(from: string, env: DistEnvelope): void {
    if (this.#done || env.kind !== "from") return;
    const holder = [...this.#holders.values()].find((h) => h.unitId === env.unitId);
    if (holder === undefined || holder.volunteerId !== from || holder.attempt !== env.attempt) return;
    const parsed = fromWorkerSchema.safeParse(env.message);
    if (!parsed.success) return;
    if (parsed.data.type === "error" && parsed.data.code === "stale") return;
    this.#route(this.coordinator.onWorkerMessage(holder.block, parsed.data));
    const blame = this.coordinator.takeBlame();
    const guilty = blame === null ? undefined : this.#holders.get(blame.block);
    // The solve waits (suspended) until the scheduler places the block again: place() → workerLost().
    if (blame !== null && guilty !== undefined) this.#o.onBlame(guilty, blame.detail);
    const result = this.coordinator.result;
    if (result !== null && !this.#done) {
      this.#done = true;
      this.#o.onResult(result);
    }
  }

  stop(): void {
    this.#done = true;
  }

  #route(outs: readonly Outgoing[]): void {
    for (const o of outs) {
      const holder = this.#holders.get(o.to);
      if (holder === undefined) continue; // not placed (yet): its placement restarts the epoch
      if (o.message.type === "restart") {
        // Ahead of the restart on the same ordered chain: how the new epoch's halos travel, and to whom.
        this.#sendTo(holder, {
          kind: "peers",
          unitId: holder.unitId,
          attempt: holder.attempt,
          message: this.#peers(o.message.epoch),
        });
      }
      this.#sendTo(holder, {
        kind: "to",
        unitId: holder.unitId,
        attempt: holder.attempt,
        message: o.message,
      });
    }
  }

  #peers(epoch: number): HaloPeers {
    const routing = this.coordinator.haloRouting;
    const holders =
      routing === "peer"
        ? this.holders().map((h) => ({
            block: h.block,
            peerId: h.volunteerId,
            unitId: h.unitId,
            attempt: h.attempt,
          }))
        : [];
    return { v: DISTRIBUTED_PROTOCOL_VERSION, type: "halo-peers", epoch, routing, holders };
  }

  #sendTo(holder: Holder, env: DistEnvelope): void {
    holder.chain = holder.chain
      .then(() => this.#o.send(holder.volunteerId, env))
      .catch((error: unknown) => {
        if (this.#holders.get(holder.block) === holder && !this.#done) this.#o.onSendFailed(holder, error);
      });
  }
}
