import { z } from "zod";
import {
  DISTRIBUTED_PROTOCOL_VERSION,
  blockDataSchema,
  inThreadBlockHost,
  toWorkerSchema,
  type BlockHost,
  type BlockHostFactory,
  type FromWorker,
  type HaloPart,
  type ToWorker,
} from "../../distributed/index.ts";
import type { JobBodyEvent, JobLink } from "../job-link.ts";
import {
  JOB_PROTOCOL_VERSION,
  MAX_HEARTBEAT_INTERVAL_MS,
  MIN_HEARTBEAT_INTERVAL_MS,
} from "../../protocol/jobs.ts";
import type { DistEnvelope } from "../../protocol/distributed-frame.ts";
import { haloPeersSchema } from "../../protocol/distributed-peers.ts";
import { HaloInbox } from "./halo-inbox.ts";
import { HaloLinks } from "./halo-links.ts";
import { OrphanParts } from "./orphan-parts.ts";

/**
 * The volunteer's side of a distributed solve: holds the row blocks requesters placed here (one
 * BlockWorker each, keyed by unit id), answers every coordinator message with the worker's reply, and
 * heartbeats each held block with a signed unit-heartbeat so the requester's scheduler keeps its lease.
 * Every input is parsed by the distributed zod schemas before it reaches a worker; a block whose data
 * fails validation is never initialised (the requester sees an `error` reply and no heartbeats).
 *
 * Each block runs on a BlockHost (distributed/block-host.ts): in a browser a Web Worker per block
 * (workers/distributed/), so the tab's main thread only moves messages; on this thread by default (tests).
 * A block's messages are stepped strictly in arrival order (one promise chain per block). A host that
 * fails gives the block back at once (unit-error) rather than heartbeating a block that computes nothing.
 *
 * Halos of a peer-routed epoch go straight to the neighbouring holders the requester named, over links
 * this block asks the overlay for (halo-links.ts); a pair without a link sends through the requester.
 */

/** Halo parts kept for blocks not initialised yet (all requesters together). */
const MAX_ORPHAN_PARTS = 64;

export const distInitSchema = z.strictObject({
  heartbeatIntervalMs: z.number().int().min(MIN_HEARTBEAT_INTERVAL_MS).max(MAX_HEARTBEAT_INTERVAL_MS),
  data: z.unknown(),
});

interface HeldBlock {
  readonly requesterId: string;
  readonly unitId: string;
  readonly attempt: number;
  readonly host: BlockHost;
  /** This block's steps, in order (its init first). */
  chain: Promise<void>;
  heartbeat: ReturnType<typeof setInterval> | undefined;
  steps: number;
  /** Time spent in this block's steps. */
  busyMs: number;
  /** Coordinator iteration of the latest `scalars` message (for the Contribute view). */
  iteration: number;
  /** Its peer-to-peer halos: incoming, and the links they go out on. */
  readonly inbox: HaloInbox;
  readonly links: HaloLinks;
}

export interface DistributedVolunteerSnapshot {
  readonly blocks: readonly { unitId: string; requesterId: string; steps: number; iteration: number }[];
  /** Dropped peer halo frames and requester frames, by reason (every rejection counted). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Halo parts of peer-routed epochs sent straight to a neighbour, and handed to the requester to relay. */
  readonly halos: { readonly direct: number; readonly relayed: number };
}

/** A held block's key: a unit id is the requester's own, so two requesters' units never collide. */
function keyOf(h: { readonly requesterId: string; readonly unitId: string }): string {
  return `${h.requesterId}|${h.unitId}`;
}

/** A block let go (finished, cancelled, moved, or its requester left): for the volunteer's unit log. */
export interface BlockEnd {
  readonly requesterId: string;
  readonly unitId: string;
  readonly attempt: number;
  /** Time spent computing its steps. */
  readonly ms: number;
}

export class DistributedVolunteer {
  readonly #link: JobLink;
  readonly #held = new Map<string, HeldBlock>();
  readonly #offs: (() => void)[] = [];
  readonly #isPaused: () => boolean;
  readonly #onChange: () => void;
  readonly #nowMs: () => number;
  readonly #corruptReply: ((reply: FromWorker) => FromWorker) | null;
  readonly #onBusy: (startMs: number, endMs: number) => void;
  readonly #onBlockEnd: (block: BlockEnd) => void;
  readonly #newHost: BlockHostFactory;
  #lastChangeMs = 0;
  readonly #rejected: Record<string, number> = {};
  /** Halo parts of the blocks already let go (the held ones count in their HaloLinks). */
  readonly #halosEnded = { direct: 0, relayed: 0 };
  /** Halo parts for blocks whose init has not arrived yet (a neighbour restarted first). */
  readonly #orphans = new OrphanParts(MAX_ORPHAN_PARTS);

  /**
   * `nowMs` is the volunteer runtime's injected clock (it paces the change notifications). `corruptReply`
   * is TEST ONLY (volunteer-fault.ts): a lying block holder. `onBusy` gets each step's time span (the
   * volunteer's busy meter), `onBlockEnd` each block as it is let go (its unit log). `blockHost` makes
   * the host a new block runs on (default: this thread).
   */
  constructor(
    link: JobLink,
    options: {
      isPaused?: () => boolean;
      onChange?: () => void;
      nowMs?: () => number;
      corruptReply?: (reply: FromWorker) => FromWorker;
      onBusy?: (startMs: number, endMs: number) => void;
      onBlockEnd?: (block: BlockEnd) => void;
      blockHost?: BlockHostFactory;
    } = {},
  ) {
    this.#link = link;
    this.#corruptReply = options.corruptReply ?? null;
    this.#nowMs = options.nowMs ?? (() => Date.now());
    this.#isPaused = options.isPaused ?? (() => false);
    this.#onChange = options.onChange ?? (() => undefined);
    this.#onBusy = options.onBusy ?? (() => undefined);
    this.#onBlockEnd = options.onBlockEnd ?? (() => undefined);
    this.#newHost = options.blockHost ?? inThreadBlockHost;
    this.#offs.push(
      link.onDist((from, env) => this.#onDist(from, env)),
      link.onBody((event) => this.#onBody(event)),
      link.onPeerClosed((peerId) => {
        for (const [key, h] of [...this.#held]) {
          if (h.requesterId === peerId) this.#drop(key);
          else this.#relay(h, h.links.lost(peerId)); // what the closing link may have lost
        }
      }),
    );
  }

  snapshot(): DistributedVolunteerSnapshot {
    return {
      blocks: [...this.#held.values()].map((h) => ({
        unitId: h.unitId,
        requesterId: h.requesterId,
        steps: h.steps,
        iteration: h.iteration,
      })),
      rejected: { ...this.#rejected },
      halos: [...this.#held.values()].reduce(
        (sum, h) => ({ direct: sum.direct + h.links.direct, relayed: sum.relayed + h.links.relayed }),
        { ...this.#halosEnded },
      ),
    };
  }

  /** Drops every held block; with a reason (pause), tells each requester so it moves the block at once. */
  dropAll(reason?: string): void {
    for (const [key, h] of [...this.#held]) {
      if (reason !== undefined) this.#giveBack(h, reason);
      this.#drop(key);
    }
  }

  /** Tells the block's requester to move it at once (rather than after a heartbeat timeout). */
  #giveBack(h: HeldBlock, reason: string): void {
    this.#link
      .sendBody(h.requesterId, {
        type: "unit-error",
        jv: JOB_PROTOCOL_VERSION,
        unitId: h.unitId,
        attempt: h.attempt,
        code: "cancelled",
        detail: reason.slice(0, 500),
      })
      .catch(() => undefined);
  }

  close(): void {
    this.dropAll();
    for (const off of this.#offs.splice(0)) off();
  }

  #drop(key: string): void {
    const h = this.#held.get(key);
    if (h === undefined) return;
    clearInterval(h.heartbeat);
    h.host.close();
    h.links.close();
    this.#halosEnded.direct += h.links.direct;
    this.#halosEnded.relayed += h.links.relayed;
    this.#held.delete(key);
    const { requesterId, unitId, attempt, busyMs } = h;
    this.#onBlockEnd({ requesterId, unitId, attempt, ms: busyMs });
    this.#onChange();
  }

  #onBody(event: JobBodyEvent): void {
    const { body, from } = event;
    if (body.type !== "unit-cancel") return;
    const key = `${from}|${body.unitId}`;
    if (this.#held.get(key)?.attempt === body.attempt) this.#drop(key);
  }

  #onDist(from: string, env: DistEnvelope): void {
    const key = `${from}|${env.unitId}`;
    if (env.kind === "init") return this.#init(from, key, env);
    if (env.kind === "halo") return this.#onPeerHalo(from, env);
    if (env.kind !== "to" && env.kind !== "peers") return; // "from" messages are for the requester runtime
    const h = this.#held.get(key);
    if (h === undefined || h.attempt !== env.attempt) return; // stale: an older placement of this block
    if (env.kind === "peers") {
      const peers = haloPeersSchema.safeParse(env.message);
      if (!peers.success) return this.#reject("peers_malformed");
      // In the chain: it applies from the restart that follows it, not to replies still being computed.
      return this.#enqueue(key, h, () => {
        const dropped = h.inbox.setPeers(peers.data);
        if (dropped > 0) this.#reject("wrong_sender", dropped);
        h.links.update(h.inbox.neighbourPeers());
        return Promise.resolve();
      });
    }
    const parsed = toWorkerSchema.safeParse(env.message);
    if (!parsed.success) return this.#reject("to_malformed"); // never reaches the worker
    const msg = parsed.data;
    if (msg.type !== "halo") return this.#step(key, h, msg);
    // In the chain, after the epoch's halo-peers: in a peer-routed epoch these are parts the requester
    // relayed for neighbours without a link to us, and join the inbox; otherwise the whole halo.
    this.#enqueue(key, h, () => {
      if (h.inbox.routingOf(msg.epoch) !== "peer") return this.#run(h, msg);
      for (const part of msg.parts) {
        const why = h.inbox.offer(null, part);
        if (why !== null) this.#reject(`relayed_${why}`);
      }
      this.#pump(key, h);
      return Promise.resolve();
    });
  }

  /** A neighbouring holder's halo part for one of our blocks (unit and attempt name the block). */
  #onPeerHalo(from: string, env: DistEnvelope): void {
    for (const [key, h] of this.#held) {
      if (h.unitId !== env.unitId || h.attempt !== env.attempt) continue;
      const why = h.inbox.offer(from, env.message);
      if (why !== null) return this.#reject(why);
      return this.#pump(key, h);
    }
    const orphan = { from, unitId: env.unitId, attempt: env.attempt, part: env.message };
    if (this.#orphans.keep(orphan)) this.#reject("orphan_evicted");
  }

  /** Steps the worker with the halo it waits for, once every neighbour's part is in. */
  #pump(key: string, h: HeldBlock): void {
    const halo = h.inbox.take();
    if (halo) this.#step(key, h, halo);
  }

  #step(key: string, h: HeldBlock, msg: ToWorker): void {
    this.#enqueue(key, h, () => this.#run(h, msg));
  }

  /** Steps the block's worker with `msg` and answers (call it in the block's chain). */
  async #run(h: HeldBlock, msg: ToWorker): Promise<void> {
    const stepStart = this.#nowMs();
    const honest = await h.host.step(msg);
    const stepEnd = this.#nowMs();
    h.busyMs += stepEnd - stepStart;
    this.#onBusy(stepStart, stepEnd);
    const reply = this.#corruptReply === null ? honest : this.#corruptReply(honest);
    h.steps++;
    if (msg.type === "scalars") h.iteration = msg.iteration;
    const now = this.#nowMs();
    if (now - this.#lastChangeMs >= 250) {
      this.#lastChangeMs = now;
      this.#onChange();
    }
    this.#reply(h, reply);
  }

  /**
   * Halo parts go to the linked neighbours when the epoch routes them peer to peer (halo-links.ts); the
   * requester gets the rest to relay, and the checkpoint (x and r, audited).
   */
  #reply(h: HeldBlock, reply: FromWorker): void {
    if (reply.type !== "halo") return this.#send(h.requesterId, h.unitId, h.attempt, reply);
    const deliveries = h.inbox.outgoing(reply);
    if (h.inbox.routingOf(reply.epoch) !== "peer")
      return this.#send(h.requesterId, h.unitId, h.attempt, reply);
    const { direct, relayed } = h.links.route(deliveries);
    for (const d of direct) {
      this.#link
        .sendDist(d.peerId, { kind: "halo", unitId: d.unitId, attempt: d.attempt, message: d.part })
        .catch(() => this.#relay(h, h.links.lost(d.peerId)));
    }
    if (relayed.length > 0 || reply.checkpoint !== undefined)
      this.#send(h.requesterId, h.unitId, h.attempt, { ...reply, parts: [...relayed] });
    this.#pump(keyOf(h), h);
  }

  /** Parts of one exchange that a failed or closed link may have lost: the requester relays them. */
  #relay(h: HeldBlock, parts: readonly HaloPart[]): void {
    const first = parts[0];
    if (first === undefined || this.#held.get(keyOf(h)) !== h) return;
    const { fromBlock: block, epoch, seq } = first;
    const message: FromWorker = {
      v: DISTRIBUTED_PROTOCOL_VERSION,
      type: "halo",
      block,
      epoch,
      seq,
      parts: [...parts],
    };
    this.#send(h.requesterId, h.unitId, h.attempt, message);
  }

  #reject(reason: string, count = 1): void {
    this.#rejected[reason] = (this.#rejected[reason] ?? 0) + count;
  }

  /** Runs `task` after the block's earlier steps, unless the block was let go meanwhile. */
  #enqueue(key: string, h: HeldBlock, task: () => Promise<void>): void {
    h.chain = h.chain
      .then(() => (this.#held.get(key) === h ? task() : undefined))
      .catch((error: unknown) => {
        if (this.#held.get(key) !== h) return; // let go while it ran: nothing to report
        this.#giveBack(h, `the block worker failed: ${String(error)}`);
        this.#drop(key);
      });
  }

  #init(from: string, key: string, env: DistEnvelope): void {
    if (this.#isPaused()) {
      // Declined like any unit offered to a paused volunteer: the requester places the block elsewhere.
      this.#link
        .sendBody(from, {
          type: "unit-error",
          jv: JOB_PROTOCOL_VERSION,
          unitId: env.unitId,
          attempt: env.attempt,
          code: "declined",
          detail: "the volunteer is paused",
        })
        .catch(() => undefined);
      return;
    }
    const old = this.#held.get(key);
    if (old !== undefined && old.attempt >= env.attempt) return;
    this.#drop(key);
    const init = distInitSchema.safeParse(env.message);
    const data = init.success ? blockDataSchema.safeParse(init.data.data) : null;
    if (!init.success || data === null || !data.success) {
      const message = (init.success ? data?.error?.message : init.error.message) ?? "bad init";
      this.#send(from, env.unitId, env.attempt, {
        v: 1,
        type: "error",
        block: -1,
        code: "bad_message",
        message: `block data failed validation: ${message}`.slice(0, 500),
      });
      return;
    }
    // Held at once: the coordinator's next messages may arrive while the host initialises the block.
    const h: HeldBlock = {
      requesterId: from,
      unitId: env.unitId,
      attempt: env.attempt,
      host: this.#newHost(),
      chain: Promise.resolve(),
      heartbeat: undefined,
      steps: 0,
      busyMs: 0,
      iteration: 0,
      inbox: new HaloInbox(
        data.data.block,
        data.data.haloOwners,
        data.data.exports.map((e) => e.block),
      ),
      links: new HaloLinks(this.#link, `dist:${key}`),
    };
    this.#held.set(key, h);
    for (const o of this.#orphans.take(h.unitId, h.attempt)) {
      const why = h.inbox.offer(o.from, o.part);
      if (why !== null) this.#reject(why);
    }
    const intervalMs = init.data.heartbeatIntervalMs;
    this.#enqueue(key, h, async () => {
      const error = await h.host.init(data.data);
      if (error !== null) {
        this.#send(from, env.unitId, env.attempt, error);
        this.#drop(key);
        return;
      }
      const beat = (): void => {
        this.#link
          .sendBody(from, {
            type: "unit-heartbeat",
            jv: JOB_PROTOCOL_VERSION,
            unitId: env.unitId,
            attempt: env.attempt,
          })
          .catch(() => undefined);
      };
      beat();
      h.heartbeat = setInterval(beat, intervalMs);
    });
    this.#onChange();
  }

  #send(to: string, unitId: string, attempt: number, message: unknown): void {
    this.#link.sendDist(to, { kind: "from", unitId, attempt, message }).catch(() => undefined);
  }
}
