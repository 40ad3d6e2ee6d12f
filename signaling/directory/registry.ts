import { timingSafeEqual } from "node:crypto";
import {
  DIRECTORY_PROTOCOL_VERSION,
  type DirectoryErrorCode,
  type DirectoryPeer,
  type DirectoryServerMessage,
} from "../../src/core/protocol/directory.ts";
import type { ServerMetrics } from "../metrics.ts";
import { Outbox } from "./outbox.ts";
import { RandomPool } from "./random-pool.ts";
import { peerMatches, type PeerFilter, type Watch } from "../../src/core/protocol/directory-query.ts";
import { SubscriptionHub, type SubscribeResult, type SubscriptionLimits } from "./subscriptions.ts";

/** What the registry needs from a joined connection. */
export interface DirectorySession {
  readonly peer: DirectoryPeer;
  readonly token: string;
  /** Sends an already-serialized frame. */
  sendSerialized(text: string, type: DirectoryServerMessage["type"]): void;
  /** Sends an error frame and closes the socket. */
  evict(code: DirectoryErrorCode, message: string, closeCode: number): void;
}

export interface DirectoryRegistryOptions {
  /**
   * Most peers a welcome or a `peers-sample` lists, and how many acquaintances a peer should have: one with
   * fewer is "hungry" and is preferred when a newcomer's sample is drawn.
   */
  readonly sampleSize: number;
  /** Changes reach a session at most once per tick, as one `peers-changed` frame. */
  readonly tickMs: number;
  readonly metrics: ServerMetrics;
  /** Test seam for sampling; Math.random by default. */
  readonly random?: () => number;
  /** Bounds on subscriptions (subscriptions.ts has the defaults). */
  readonly subscriptionLimits?: SubscriptionLimits;
}

interface Entry {
  readonly session: DirectorySession;
  /** Who this session was told about; always symmetric (a in b's set iff b in a's). */
  readonly acquaintances: Set<Entry>;
  readonly outbox: Outbox;
}

/**
 * Who is online: one session per peer id, and who knows whom. A newcomer is made acquainted with a bounded
 * sample (hungry peers first, then peers with a GPU or a headless volunteer, then random ones) and only those
 * are told about it, so a join costs O(sampleSize) messages at any swarm size, not O(peers). Acquaintance is
 * symmetric, so whichever side of a pair dials (mesh.ts: the lower id) finds the other expecting it. With
 * fewer than `sampleSize` other peers the sample is everyone: a small swarm is a full mesh, as before.
 * Changes are coalesced per session and flushed once per tick.
 */
export class DirectoryRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly all = new RandomPool<Entry>();
  private readonly hungry = new RandomPool<Entry>();
  private readonly capable = new RandomPool<Entry>();
  private readonly dirty = new Set<Entry>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly endedListeners = new Set<(peerId: string) => void>();
  private readonly random: () => number;
  /** A peer already known by this many is not picked at random: keeps each peer's leave fan-out bounded. */
  private readonly maxAcquaintances: number;
  /** Who subscribed to whose joins and leaves (besides acquaintances, who always hear of each other). */
  private readonly hub: SubscriptionHub;

  constructor(private readonly options: DirectoryRegistryOptions) {
    this.random = options.random ?? Math.random;
    this.maxAcquaintances = 4 * options.sampleSize;
    this.hub = new SubscriptionHub(options.tickMs, options.metrics, options.subscriptionLimits);
  }

  /** Subscriptions held now. */
  get subscriptionCount(): number {
    return this.hub.size;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Peers online by self-reported runtime (Prometheus `open_swarm_peers`; one pass, at scrape time). */
  peersByRuntime(): Record<string, number> {
    const counts: Record<string, number> = { browser: 0, node: 0 };
    for (const { session } of this.entries.values()) {
      const runtime = session.peer.capabilities.runtime;
      counts[runtime] = (counts[runtime] ?? 0) + 1;
    }
    return counts;
  }

  /** Every peer online, as it announced itself (one pass; for the API's /swarm and /nodes). */
  *peers(): IterableIterator<DirectoryPeer> {
    for (const { session } of this.entries.values()) yield session.peer;
  }

  /** How many other peers a session should be told are online. */
  get othersOnline(): number {
    return Math.max(0, this.entries.size - 1);
  }

  get(peerId: string): DirectorySession | undefined {
    return this.entries.get(peerId)?.session;
  }

  /** How many peers the session currently knows (tests and logs). */
  acquaintanceCount(peerId: string): number {
    return this.entries.get(peerId)?.acquaintances.size ?? 0;
  }

  /** Constant-time check that `token` is the session token of the peer currently online as `peerId`. */
  tokenMatches(peerId: string, token: string): boolean {
    const session = this.entries.get(peerId)?.session;
    if (!session) return false;
    const expected = Buffer.from(session.token);
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Adds the session and acquaints it with a sample, which is returned for its welcome. */
  add(session: DirectorySession): DirectoryPeer[] {
    const peerId = session.peer.peerId;
    if (this.entries.has(peerId)) throw new Error("registry: peer id already online");
    const entry: Entry = { session, acquaintances: new Set(), outbox: new Outbox() };
    const sample = this.choose(entry, this.options.sampleSize);
    this.entries.set(peerId, entry);
    this.all.add(entry);
    for (const other of sample) this.acquaint(entry, other);
    this.classify(entry);
    this.hub.joined(session.peer);
    this.options.metrics.peerRecordsOut.sampled += sample.length;
    return sample.map((other) => other.session.peer);
  }

  /**
   * Up to `k` online peers matching `filter` (a uniform random pick among all matches, so requesters asking
   * the same thing spread over the swarm) and how many match. The asker and the peers it is given become
   * acquainted, so each admits a link from the other. One pass over the swarm: O(peers) per query, which
   * the per-connection query rate bounds.
   */
  query(
    session: DirectorySession,
    filter: PeerFilter,
    k: number,
  ): { peers: DirectoryPeer[]; matched: number } {
    const entry = this.current(session);
    if (!entry) return { peers: [], matched: 0 };
    const picked: Entry[] = [];
    let matched = 0;
    for (const other of this.all.values()) {
      if (other === entry || !peerMatches(other.session.peer.capabilities, filter)) continue;
      matched++;
      if (picked.length < k) picked.push(other);
      else {
        // Reservoir sampling: every match ends up in `picked` with probability k / matched.
        const at = Math.floor(this.random() * matched);
        if (at < k) picked[at] = other;
      }
    }
    this.introduce(entry, picked);
    this.options.metrics.peerRecordsOut.queried += picked.length;
    return { peers: picked.map((other) => other.session.peer), matched };
  }

  /**
   * Subscribes the session to joins and leaves of a filter or of peer ids. The answer lists up to `limit`
   * watched peers online now; watched ids online now become acquaintances (the asker works with them).
   */
  subscribe(
    session: DirectorySession,
    id: string,
    watch: Watch,
    limit: number,
  ): SubscribeResult & { online: DirectoryPeer[] } {
    const entry = this.current(session);
    if (!entry) return { ok: false, code: "not_joined", detail: "join before subscribing", online: [] };
    const result = this.hub.subscribe(session, id, watch);
    if (!result.ok) return { ...result, online: [] };
    if (watch.kind === "filter") return { ok: true, online: this.sampleMatching(entry, watch.filter, limit) };
    const online: Entry[] = [];
    for (const peerId of new Set(watch.peerIds)) {
      const other = this.entries.get(peerId);
      if (other && other !== entry && online.length < limit) online.push(other);
    }
    this.introduce(entry, online);
    return { ok: true, online: online.map((other) => other.session.peer) };
  }

  unsubscribe(session: DirectorySession, id: string): boolean {
    return this.current(session) !== undefined && this.hub.unsubscribe(session, id);
  }

  /**
   * More acquaintances for a session that asked (`request-peers`): up to `sampleSize` peers it does not know
   * yet; they are told about it in turn. Empty when it already knows everyone (or enough).
   */
  extend(session: DirectorySession): DirectoryPeer[] {
    const entry = this.current(session);
    if (!entry) return [];
    const sample = this.choose(entry, this.options.sampleSize);
    for (const other of sample) this.acquaint(entry, other);
    this.classify(entry);
    this.options.metrics.peerRecordsOut.sampled += sample.length;
    return sample.map((other) => other.session.peer);
  }

  /** The session's record changed (capabilities): its acquaintances hear of it at the next tick. */
  update(session: DirectorySession, before: DirectoryPeer): void {
    const entry = this.current(session);
    if (!entry) return;
    this.classify(entry);
    this.hub.updated(before, session.peer);
    for (const other of entry.acquaintances) {
      other.outbox.peerUpdated(session.peer);
      this.markDirty(other);
    }
  }

  /** Removes the session if it is still the current one for its id; false if it was already replaced. */
  remove(session: DirectorySession): boolean {
    const entry = this.current(session);
    if (!entry) return false;
    const peerId = session.peer.peerId;
    this.entries.delete(peerId);
    this.all.delete(entry);
    this.hungry.delete(entry);
    this.capable.delete(entry);
    this.dirty.delete(entry);
    for (const other of entry.acquaintances) {
      other.acquaintances.delete(entry);
      other.outbox.peerLeft(peerId);
      this.markDirty(other);
      this.classify(other);
    }
    entry.acquaintances.clear();
    this.hub.dropSession(session);
    this.hub.left(session.peer);
    for (const listener of this.endedListeners) listener(peerId);
    return true;
  }

  /** Called with the peer id whenever a session ends (left, dropped or replaced). */
  onSessionEnded(listener: (peerId: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** Stops the flush timer (server shutdown); pending changes are dropped with the sockets. */
  close(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.dirty.clear();
    this.hub.close();
  }

  private current(session: DirectorySession): Entry | undefined {
    const entry = this.entries.get(session.peer.peerId);
    return entry?.session === session ? entry : undefined;
  }

  private acquaint(entry: Entry, other: Entry): void {
    entry.acquaintances.add(other);
    other.acquaintances.add(entry);
    other.outbox.peerJoined(entry.session.peer);
    this.markDirty(other);
    this.classify(other);
  }

  /** Makes `entry` acquainted with each of `others` it does not know yet, within a hard cap. */
  private introduce(entry: Entry, others: readonly Entry[]): void {
    // Asked-for acquaintances may exceed the sampling cap (a requester needs its volunteers to admit it),
    // but not without bound: a peer's leave is announced to each acquaintance.
    const cap = 2 * this.maxAcquaintances;
    for (const other of others) {
      if (entry.acquaintances.has(other)) continue;
      if (entry.acquaintances.size >= cap || other.acquaintances.size >= cap) continue;
      this.acquaint(entry, other);
    }
    this.classify(entry);
  }

  /** Up to `limit` matching peers, first found from a random start (a subscription's initial view). */
  private sampleMatching(entry: Entry, filter: PeerFilter, limit: number): DirectoryPeer[] {
    const found: DirectoryPeer[] = [];
    const items = [...this.all.values()];
    const start = Math.floor(this.random() * items.length);
    for (let i = 0; i < items.length && found.length < limit; i++) {
      const other = items[(start + i) % items.length]!;
      if (other !== entry && peerMatches(other.session.peer.capabilities, filter))
        found.push(other.session.peer);
    }
    return found;
  }

  private classify(entry: Entry): void {
    if (!this.all.has(entry)) return;
    if (entry.acquaintances.size < this.options.sampleSize) this.hungry.add(entry);
    else this.hungry.delete(entry);
    // Self-reported, so only a preference for part of a sample: hungry and random picks still fill the rest.
    const { webgpu, runtime } = entry.session.peer.capabilities;
    if (webgpu !== null || runtime === "node") this.capable.add(entry);
    else this.capable.delete(entry);
  }

  /** Up to `want` peers `entry` does not know yet: hungry ones, then capable ones, then random ones. */
  private choose(entry: Entry, want: number): Entry[] {
    const limit = Math.min(want, this.maxAcquaintances - entry.acquaintances.size);
    if (limit <= 0) return [];
    const chosen = new Set<Entry>();
    const eligible = (other: Entry): boolean =>
      other !== entry &&
      !chosen.has(other) &&
      !entry.acquaintances.has(other) &&
      other.acquaintances.size < this.maxAcquaintances;
    const others = this.all.has(entry) ? this.all.size - 1 : this.all.size;
    if (others - entry.acquaintances.size <= limit) {
      // Small swarm (or a peer that knows nearly everyone): take all, no sampling.
      for (const other of this.all.values()) if (eligible(other)) chosen.add(other);
      return [...chosen];
    }
    this.pickInto(chosen, this.hungry, Math.ceil(limit / 2), eligible);
    this.pickInto(chosen, this.capable, chosen.size + Math.ceil(limit / 4), eligible);
    this.pickInto(chosen, this.all, limit, eligible);
    return [...chosen];
  }

  /** Random picks from `pool` until `chosen` holds `upTo`; a bounded number of tries keeps it O(sample). */
  private pickInto(
    chosen: Set<Entry>,
    pool: RandomPool<Entry>,
    upTo: number,
    eligible: (other: Entry) => boolean,
  ): void {
    let tries = 4 * Math.max(0, upTo - chosen.size) + 8;
    while (chosen.size < upTo && tries-- > 0) {
      const other = pool.pick(this.random);
      if (other && eligible(other)) chosen.add(other);
    }
  }

  private markDirty(entry: Entry): void {
    this.dirty.add(entry);
    this.flushTimer ??= setTimeout(() => this.flush(), this.options.tickMs);
  }

  /** One `peers-changed` frame per session with pending changes. */
  private flush(): void {
    this.flushTimer = null;
    const batch = [...this.dirty];
    this.dirty.clear();
    const total = this.othersOnline;
    const counts = this.options.metrics.peerRecordsOut;
    // A send may drop a slow consumer, which removes it (and edits other outboxes) mid-loop: re-check each.
    for (const entry of batch) {
      if (this.current(entry.session) !== entry || entry.outbox.isEmpty) continue;
      const changes = entry.outbox.take();
      const message: DirectoryServerMessage = {
        v: DIRECTORY_PROTOCOL_VERSION,
        type: "peers-changed",
        ...changes,
        total,
      };
      entry.session.sendSerialized(JSON.stringify(message), message.type);
      counts.joined += changes.joined.length;
      counts.updated += changes.updated.length;
      counts.left += changes.left.length;
    }
  }
}
