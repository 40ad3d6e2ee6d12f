import {
  DISTRIBUTED_PROTOCOL_VERSION,
  haloPartSchema,
  type FromWorker,
  type HaloPart,
  type ToWorker,
} from "../../distributed/index.ts";
import type { HaloPeers } from "../../protocol/distributed-peers.ts";

/** Why a peer's halo part was dropped (each one is counted: DistributedVolunteer.snapshot().rejected). */
export type HaloRejection =
  "malformed" | "misaddressed" | "wrong_sender" | "stale" | "duplicate" | "overflow";

/** A part to send to the holder of its `toBlock`. */
export interface HaloDelivery {
  readonly peerId: string;
  readonly unitId: string;
  readonly attempt: number;
  readonly part: HaloPart;
}

/**
 * Parts held per source, at most (see `offer`). An honest neighbour is at most one exchange ahead (it
 * cannot pass a reduction this block has not joined), plus the first exchanges of a new epoch.
 */
const AHEAD_PER_SOURCE = 6;

/**
 * One held block's peer-to-peer halos (protocol/distributed-peers.ts). Outgoing: the worker's halo parts,
 * addressed to the holders the requester named for the epoch. Incoming: neighbours' parts, accepted only
 * from the authenticated peer named for their `fromBlock`, buffered until the worker waits for that
 * exchange (a neighbour may be one exchange ahead) and all its sources are in, then handed over as one
 * `halo` message. Parts of an epoch whose `halo-peers` has not arrived yet (a neighbour restarted first)
 * are kept unchecked, bounded, and checked when it arrives. A part may also come relayed by the requester
 * (`from` null: the neighbour had no link to us, halo-links.ts); the requester's coordinator checked its
 * sender, so it needs no named peer.
 */
export class HaloInbox {
  readonly #block: number;
  readonly #sources: readonly number[];
  /** Blocks we send to or hear from: the holders we want a link with. */
  readonly #neighbours: ReadonlySet<number>;
  #peers: HaloPeers | null = null;
  /** The exchange the worker waits for (its own halo of it went out); null when it waits for nothing. */
  #waiting: { epoch: number; seq: number } | null = null;
  /** The last exchange handed to the worker: a copy of its part arriving later (a resend) is stale. */
  #taken: { epoch: number; seq: number } | null = null;
  readonly #parts = new Map<string, { from: string | null; part: HaloPart }>();

  constructor(block: number, haloOwners: ArrayLike<number>, exportTo: readonly number[] = []) {
    this.#block = block;
    this.#sources = [...new Set(Array.from(haloOwners))];
    this.#neighbours = new Set([...this.#sources, ...exportTo]);
  }

  /** The peers holding our neighbouring blocks in the latest peer-routed epoch (none otherwise). */
  neighbourPeers(): string[] {
    const peers = this.#peers;
    if (peers === null || peers.routing !== "peer") return [];
    const ids = peers.holders.filter((h) => this.#neighbours.has(h.block)).map((h) => h.peerId);
    return [...new Set(ids)];
  }

  /** Halo routing of `epoch` as the requester announced it (coordinator until told otherwise). */
  routingOf(epoch: number): "peer" | "coordinator" {
    return this.#peers?.epoch === epoch ? this.#peers.routing : "coordinator";
  }

  /** The requester's `halo-peers` for a new epoch; returns how many buffered parts it disproved. */
  setPeers(peers: HaloPeers): number {
    if (this.#peers !== null && peers.epoch < this.#peers.epoch) return 0;
    this.#peers = peers;
    let dropped = 0;
    for (const [key, { from, part }] of this.#parts) {
      if (part.epoch < peers.epoch) this.#parts.delete(key);
      else if (part.epoch === peers.epoch && this.#wrongSender(from, part)) {
        this.#parts.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** A part a peer sent (`from` null: relayed by the requester); null when kept, else why it was dropped. */
  offer(from: string | null, raw: unknown): HaloRejection | null {
    const parsed = haloPartSchema.safeParse(raw);
    if (!parsed.success) return "malformed";
    const part = parsed.data;
    if (part.toBlock !== this.#block || !this.#sources.includes(part.fromBlock)) return "misaddressed";
    const epoch = this.#peers?.epoch ?? -1;
    if (part.epoch < epoch) return "stale";
    if (part.epoch === epoch && this.#wrongSender(from, part)) return "wrong_sender";
    const w = this.#waiting;
    if (w !== null && part.epoch === w.epoch && part.seq < w.seq) return "stale";
    const t = this.#taken;
    if (t !== null && part.epoch === t.epoch && part.seq <= t.seq) return "stale";
    const key = `${part.fromBlock}:${part.epoch}:${part.seq}`;
    if (this.#parts.has(key)) return "duplicate";
    if (this.#parts.size >= AHEAD_PER_SOURCE * this.#sources.length) return "overflow";
    this.#parts.set(key, { from, part });
    return null;
  }

  /** The worker sent its halo of (epoch, seq): where its parts go; it now waits for that exchange. */
  outgoing(reply: Extract<FromWorker, { type: "halo" }>): HaloDelivery[] {
    this.#waiting = { epoch: reply.epoch, seq: reply.seq };
    const peers = this.#peers;
    if (peers === null || peers.epoch !== reply.epoch || peers.routing !== "peer") return [];
    return reply.parts.flatMap((part) => {
      const h = peers.holders.find((x) => x.block === part.toBlock);
      return h === undefined ? [] : [{ peerId: h.peerId, unitId: h.unitId, attempt: h.attempt, part }];
    });
  }

  /** The halo message the worker waits for, once every source's part is in (then it waits for nothing). */
  take(): Extract<ToWorker, { type: "halo" }> | null {
    const w = this.#waiting;
    if (w === null || this.routingOf(w.epoch) !== "peer") return null;
    const keys = this.#sources.map((s) => `${s}:${w.epoch}:${w.seq}`);
    const parts: HaloPart[] = [];
    for (const key of keys) {
      const got = this.#parts.get(key);
      if (got === undefined) return null;
      parts.push(got.part);
    }
    for (const key of keys) this.#parts.delete(key);
    this.#waiting = null;
    this.#taken = w;
    return { v: DISTRIBUTED_PROTOCOL_VERSION, type: "halo", epoch: w.epoch, seq: w.seq, parts };
  }

  #wrongSender(from: string | null, part: HaloPart): boolean {
    if (from === null) return false;
    const h = this.#peers?.holders.find((x) => x.block === part.fromBlock);
    return h === undefined || h.peerId !== from;
  }
}
