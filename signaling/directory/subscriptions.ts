import {
  DIRECTORY_PROTOCOL_VERSION,
  type DirectoryErrorCode,
  type DirectoryPeer,
  type DirectoryServerMessage,
} from "../../src/core/protocol/directory.ts";
import {
  MAX_SUBSCRIPTIONS_PER_PEER,
  filterKey,
  peerMatches,
  type PeerFilter,
  type Watch,
} from "../../src/core/protocol/directory-query.ts";
import type { ServerMetrics } from "../metrics.ts";

/** The part of a session the hub writes to. */
export interface Subscriber {
  readonly peer: DirectoryPeer;
  sendSerialized(text: string, type: DirectoryServerMessage["type"]): void;
}

export interface SubscriptionLimits {
  /** Sessions that may share one filter (a join matching it reaches at most this many). */
  readonly maxSubscribersPerFilter: number;
  /** Distinct filters held at once (a join is matched against each). */
  readonly maxFilters: number;
  /** Sessions that may watch one peer id (its join or leave reaches at most this many). */
  readonly maxWatchersPerPeer: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  maxSubscribersPerFilter: 256,
  maxFilters: 1_024,
  maxWatchersPerPeer: 256,
};

interface Subscription {
  readonly owner: Subscriber;
  readonly id: string;
  readonly watch: Watch;
  /** Filter group key, or null for an id watch. */
  readonly group: string | null;
  readonly joined: Map<string, DirectoryPeer>;
  readonly left: Set<string>;
}

interface FilterGroup {
  readonly filter: PeerFilter;
  readonly members: Set<Subscription>;
}

export type SubscribeResult = { ok: true } | { ok: false; code: DirectoryErrorCode; detail: string };

/**
 * Who wants to hear about whom: subscriptions to a filter (grouped by filter, so a join is matched once
 * per distinct filter, not per subscriber) or to peer ids (an index by id). A join, leave or capability
 * change reaches only the subscriptions it concerns, coalesced per subscription and sent once per tick,
 * and every set here is bounded, so one event costs at most maxFilters checks and a bounded number of frames.
 */
export class SubscriptionHub {
  private readonly groups = new Map<string, FilterGroup>();
  private readonly watchers = new Map<string, Set<Subscription>>();
  private readonly bySession = new Map<Subscriber, Map<string, Subscription>>();
  private readonly dirty = new Set<Subscription>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly tickMs: number,
    private readonly metrics: ServerMetrics,
    private readonly limits: SubscriptionLimits = DEFAULT_SUBSCRIPTION_LIMITS,
  ) {}

  /** Subscriptions held now (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const subs of this.bySession.values()) n += subs.size;
    return n;
  }

  /** Adds (or replaces, same id) a subscription, or says which bound it would break. */
  subscribe(owner: Subscriber, id: string, watch: Watch): SubscribeResult {
    const own = this.bySession.get(owner) ?? new Map<string, Subscription>();
    if (!own.has(id) && own.size >= MAX_SUBSCRIPTIONS_PER_PEER) {
      return refuse("too_many_subscriptions", `at most ${MAX_SUBSCRIPTIONS_PER_PEER} subscriptions per peer`);
    }
    const group = watch.kind === "filter" ? filterKey(watch.filter) : null;
    const full = this.wouldOverflow(watch, group, own.get(id));
    if (full) return refuse("too_many_subscriptions", full);
    this.unsubscribe(owner, id);
    const sub: Subscription = { owner, id, watch, group, joined: new Map(), left: new Set() };
    own.set(id, sub);
    this.bySession.set(owner, own);
    if (watch.kind === "filter" && group !== null) {
      const existing = this.groups.get(group);
      if (existing) existing.members.add(sub);
      else this.groups.set(group, { filter: watch.filter, members: new Set([sub]) });
    } else if (watch.kind === "peers") {
      for (const peerId of new Set(watch.peerIds)) {
        const set = this.watchers.get(peerId) ?? new Set<Subscription>();
        set.add(sub);
        this.watchers.set(peerId, set);
      }
    }
    return { ok: true };
  }

  /** False when the session holds no subscription of that id. */
  unsubscribe(owner: Subscriber, id: string): boolean {
    const own = this.bySession.get(owner);
    const sub = own?.get(id);
    if (!own || !sub) return false;
    own.delete(id);
    if (own.size === 0) this.bySession.delete(owner);
    this.dirty.delete(sub);
    if (sub.group !== null) {
      const group = this.groups.get(sub.group);
      group?.members.delete(sub);
      if (group?.members.size === 0) this.groups.delete(sub.group);
    }
    if (sub.watch.kind === "peers") {
      for (const peerId of sub.watch.peerIds) {
        const set = this.watchers.get(peerId);
        set?.delete(sub);
        if (set?.size === 0) this.watchers.delete(peerId);
      }
    }
    return true;
  }

  /** The session ended: its subscriptions go with it. */
  dropSession(owner: Subscriber): void {
    for (const id of [...(this.bySession.get(owner)?.keys() ?? [])]) this.unsubscribe(owner, id);
  }

  /** A peer came online. */
  joined(peer: DirectoryPeer): void {
    this.forEachConcerned(peer, (sub) => this.noteJoin(sub, peer));
  }

  /** A peer went offline (its record as it was last). */
  left(peer: DirectoryPeer): void {
    this.forEachConcerned(peer, (sub) => this.noteLeave(sub, peer.peerId));
  }

  /** A peer's capabilities changed: filter subscribers see it join or leave the filter's set. */
  updated(before: DirectoryPeer, after: DirectoryPeer): void {
    for (const group of this.groups.values()) {
      const was = peerMatches(before.capabilities, group.filter);
      const is = peerMatches(after.capabilities, group.filter);
      if (was === is) continue;
      for (const sub of group.members) {
        if (sub.owner.peer.peerId === after.peerId) continue;
        if (is) this.noteJoin(sub, after);
        else this.noteLeave(sub, after.peerId);
      }
    }
  }

  close(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.dirty.clear();
  }

  /** Why adding `watch` would break a bound, or null. `replacing` is the same-id subscription it replaces. */
  private wouldOverflow(
    watch: Watch,
    group: string | null,
    replacing: Subscription | undefined,
  ): string | null {
    if (group !== null) {
      const existing = this.groups.get(group);
      const sameGroup = replacing?.group === group;
      if (!existing && this.groups.size >= this.limits.maxFilters) {
        return `the server holds ${this.limits.maxFilters} distinct filters; reuse one or query instead`;
      }
      if (existing && !sameGroup && existing.members.size >= this.limits.maxSubscribersPerFilter) {
        return `this filter has ${this.limits.maxSubscribersPerFilter} subscribers already`;
      }
      return null;
    }
    if (watch.kind !== "peers") return null;
    for (const peerId of watch.peerIds) {
      const set = this.watchers.get(peerId);
      if (set && set.size >= this.limits.maxWatchersPerPeer && !(replacing && set.has(replacing))) {
        return `peer ${peerId} has ${this.limits.maxWatchersPerPeer} watchers already`;
      }
    }
    return null;
  }

  private forEachConcerned(peer: DirectoryPeer, visit: (sub: Subscription) => void): void {
    for (const sub of this.watchers.get(peer.peerId) ?? []) visit(sub);
    for (const group of this.groups.values()) {
      if (!peerMatches(peer.capabilities, group.filter)) continue;
      for (const sub of group.members) if (sub.owner.peer.peerId !== peer.peerId) visit(sub);
    }
  }

  private noteJoin(sub: Subscription, peer: DirectoryPeer): void {
    sub.joined.set(peer.peerId, peer);
    this.markDirty(sub);
  }

  private noteLeave(sub: Subscription, peerId: string): void {
    // Joined and left within one tick: the subscriber never heard of it, so there is nothing to say.
    if (!sub.joined.delete(peerId)) sub.left.add(peerId);
    this.markDirty(sub);
  }

  private markDirty(sub: Subscription): void {
    this.dirty.add(sub);
    this.flushTimer ??= setTimeout(() => this.flush(), this.tickMs);
  }

  /** One `watch-changed` per subscription with pending changes. */
  private flush(): void {
    this.flushTimer = null;
    const batch = [...this.dirty];
    this.dirty.clear();
    for (const sub of batch) {
      if (sub.joined.size === 0 && sub.left.size === 0) continue;
      const message: DirectoryServerMessage = {
        v: DIRECTORY_PROTOCOL_VERSION,
        type: "watch-changed",
        id: sub.id,
        joined: [...sub.joined.values()],
        left: [...sub.left],
      };
      sub.joined.clear();
      sub.left.clear();
      this.metrics.peerRecordsOut.watched += message.joined.length + message.left.length;
      sub.owner.sendSerialized(JSON.stringify(message), message.type);
    }
  }
}

function refuse(code: DirectoryErrorCode, detail: string): SubscribeResult {
  return { ok: false, code, detail };
}
