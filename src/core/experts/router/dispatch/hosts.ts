import { HostStats } from "./host-stats.ts";
import type { ProviderName } from "../verification/tolerance.ts";
import type { XpHosting } from "../../../protocol/experts.ts";

/**
 * The router's view of expert hosts: what each serves (from its `hosting` announcements), whether it is
 * connected, paused, suspended (too many consecutive timeouts: left alone for a while, then probed again)
 * or banned (caught serving wrong outputs: never again), how many requests are in flight to it, and its
 * statistics. `pick` chooses where a batch goes: the lowest HostStats.score among hosts with a free slot,
 * except that with probability `explore` it picks a random one, so a host that was slow once, or one not
 * measured yet, gets a chance to show it is fast now. A checker (a replica that verifies another host's
 * answer) is picked uniformly at random instead ("random"): never by speed, which a liar controls (a host
 * that answers instantly from a table of lies would otherwise be everyone's replica).
 */
export interface HostEntry {
  readonly peerId: string;
  readonly stats: HostStats;
  provider: ProviderName;
  ready: Set<string>;
  paused: boolean;
  connected: boolean;
  inFlight: number;
  maxInFlight: number;
  banned: string | null;
  suspendedUntilMs: number;
}

export type Pick =
  | { readonly kind: "host"; readonly entry: HostEntry }
  /** Hosts exist for the model but all are at their in-flight limit. */
  | { readonly kind: "wait" }
  | { readonly kind: "none" };

export interface HostRegistryOptions {
  readonly maxInFlightPerHost: number;
  readonly explore: number;
  readonly suspendAfterTimeouts: number;
  readonly suspendMs: number;
  readonly random: () => number;
  readonly nowMs: () => number;
}

export class HostRegistry {
  readonly #hosts = new Map<string, HostEntry>();
  #waiters: (() => void)[] = [];
  readonly #queue: {
    sha256: string;
    exclude: ReadonlySet<string>;
    priority: number;
    random: boolean;
    seq: number;
    resolve: (entry: HostEntry | null) => void;
  }[] = [];
  #seq = 0;

  constructor(private readonly o: HostRegistryOptions) {}

  get(peerId: string): HostEntry | undefined {
    return this.#hosts.get(peerId);
  }

  all(): HostEntry[] {
    return [...this.#hosts.values()];
  }

  ensure(peerId: string): HostEntry {
    let entry = this.#hosts.get(peerId);
    if (!entry) {
      entry = {
        peerId,
        stats: new HostStats(peerId),
        provider: "wasm",
        ready: new Set(),
        paused: false,
        connected: true,
        inFlight: 0,
        maxInFlight: this.o.maxInFlightPerHost,
        banned: null,
        suspendedUntilMs: 0,
      };
      this.#hosts.set(peerId, entry);
    }
    return entry;
  }

  /** A host announced what it serves (`wanted`: the digests this router uses). */
  hosting(peerId: string, message: XpHosting, wanted: ReadonlySet<string>): HostEntry {
    const entry = this.ensure(peerId);
    entry.provider = message.provider;
    entry.ready = new Set(message.hosted.filter((sha) => wanted.has(sha)));
    entry.paused = message.paused;
    entry.connected = true;
    entry.maxInFlight = Math.max(1, Math.min(this.o.maxInFlightPerHost, message.maxQueuedRequests));
    this.changed();
    return entry;
  }

  closed(peerId: string): void {
    const entry = this.#hosts.get(peerId);
    if (!entry) return;
    entry.connected = false;
    entry.ready.clear();
    this.changed();
  }

  ban(peerId: string, reason: string): boolean {
    const entry = this.ensure(peerId);
    if (entry.banned !== null) return false;
    entry.banned = reason;
    entry.ready.clear();
    this.changed();
    return true;
  }

  /** A ban remembered from an earlier session (IndexedDB): banned before it is ever heard from, so it never
   *  gets a model or a request (not connected until it speaks, and even then unusable). */
  restoreBan(peerId: string, reason: string): void {
    const fresh = !this.#hosts.has(peerId);
    const entry = this.ensure(peerId);
    if (fresh) entry.connected = false;
    entry.banned = reason;
    entry.ready.clear();
  }

  /** After a timeout: suspends a host that keeps timing out. */
  noteTimeout(entry: HostEntry): void {
    if (entry.stats.consecutiveTimeouts >= this.o.suspendAfterTimeouts) {
      entry.suspendedUntilMs = this.o.nowMs() + this.o.suspendMs;
    }
  }

  usable(entry: HostEntry, sha256: string, nowMs: number): boolean {
    return (
      entry.connected &&
      entry.banned === null &&
      !entry.paused &&
      entry.suspendedUntilMs <= nowMs &&
      entry.ready.has(sha256)
    );
  }

  /** Usable hosts for a model (ignoring in-flight limits). */
  hostsFor(sha256: string, exclude: ReadonlySet<string> = new Set()): HostEntry[] {
    const now = this.o.nowMs();
    return this.all().filter((e) => !exclude.has(e.peerId) && this.usable(e, sha256, now));
  }

  pick(sha256: string, exclude: ReadonlySet<string>, random = false): Pick {
    const usable = this.hostsFor(sha256, exclude);
    if (usable.length === 0) return { kind: "none" };
    const free = usable.filter((e) => e.inFlight < e.maxInFlight);
    if (free.length === 0) return { kind: "wait" };
    if (random || (free.length > 1 && this.o.random() < this.o.explore)) {
      return { kind: "host", entry: free[Math.floor(this.o.random() * free.length)]! };
    }
    // A host not measured yet is assumed as fast as the fastest measured one: it will be tried early.
    const measured = usable.map((e) => e.stats.ewmaMsPerRow).filter((v): v is number => v !== null);
    const prior = measured.length > 0 ? Math.min(...measured) : 1;
    let best = free[0]!;
    let bestScore = best.stats.score(prior, best.inFlight);
    for (const e of free.slice(1)) {
      const s = e.stats.score(prior, e.inFlight);
      if (s < bestScore) {
        best = e;
        bestScore = s;
      }
    }
    return { kind: "host", entry: best };
  }

  /**
   * A host with a free slot for the model, its slot taken (give it back with release), or null when no host
   * is usable. Waiters are served by priority (lower first), then in arrival order: the router puts
   * replicas and retries before fresh batches, so verification keeps pace with the work it verifies.
   * `random`: any usable host with a free slot, uniformly (a checker), instead of the best-scored one.
   */
  acquire(
    sha256: string,
    exclude: ReadonlySet<string>,
    priority: number,
    random = false,
  ): Promise<HostEntry | null> {
    return new Promise((resolve) => {
      const waiter = { sha256, exclude, priority, random, seq: ++this.#seq, resolve };
      const at = this.#queue.findIndex((w) => w.priority > priority);
      if (at < 0) this.#queue.push(waiter);
      else this.#queue.splice(at, 0, waiter);
      this.#grant();
    });
  }

  release(entry: HostEntry): void {
    entry.inFlight--;
    this.changed();
  }

  /** Resolves at the next change (a slot freed, a host ready, closed, banned, resumed...). */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  changed(): void {
    this.#grant();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Every pending acquire resolves null (the router is closing). */
  abandon(): void {
    for (const w of this.#queue.splice(0)) w.resolve(null);
  }

  #grant(): void {
    for (let i = 0; i < this.#queue.length;) {
      const w = this.#queue[i]!;
      const pick = this.pick(w.sha256, w.exclude, w.random);
      if (pick.kind === "wait") {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      if (pick.kind === "host") pick.entry.inFlight++;
      w.resolve(pick.kind === "host" ? pick.entry : null);
    }
  }

  /** Soonest end of a suspension, so waiters can wake for it (null if none pending). */
  nextSuspensionEndMs(): number | null {
    const now = this.o.nowMs();
    let soonest: number | null = null;
    for (const e of this.#hosts.values()) {
      if (e.suspendedUntilMs > now && (soonest === null || e.suspendedUntilMs < soonest))
        soonest = e.suspendedUntilMs;
    }
    return soonest;
  }
}
