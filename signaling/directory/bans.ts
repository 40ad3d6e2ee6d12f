import { DIRECTORY_CLOSE_CODES } from "../../src/core/protocol/directory.ts";
import type { Logger } from "pino";
import type { ServerMetrics } from "../metrics.ts";
import type { DirectoryRegistry } from "./registry.ts";

/** One ban of a peer id: why (the operator's words, shown to the peer), since when, until when. */
export interface PeerBan {
  readonly peerId: string;
  readonly reason: string;
  readonly bannedAtMs: number;
  /** null: until lifted or until the server process ends (bans are held in memory only). */
  readonly expiresAtMs: number | null;
}

/** Most bans held at once: an admin key (or a script gone wrong) cannot grow the list without bound. */
export const MAX_BANS = 10_000;

/** What a ban did: the ban as stored, whether it replaced one, whether a live session was closed. */
export interface BanOutcome {
  readonly ban: PeerBan;
  readonly replaced: boolean;
  readonly sessionClosed: boolean;
}

/**
 * The directory's ban list (the admin API's POST /admin/bans): a banned peer id is refused at join
 * (connection.ts, error `banned`, close 4403, which the client takes as final), its live session is closed
 * at once (and with it its PeerJS registration: registry.onSessionEnded), so it leaves every directory
 * answer and /api/v1/nodes, and the upgrade dispatcher refuses its PeerJS registration (upgrade.ts).
 * In memory only: the server has no persistence of its own, so bans end with the process.
 * Expired bans are dropped when read, so no timer is needed.
 */
export class DirectoryBans {
  readonly #bans = new Map<string, PeerBan>();

  constructor(
    private readonly registry: DirectoryRegistry,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The ban in force on `peerId`, if any. */
  get(peerId: string): PeerBan | undefined {
    const ban = this.#bans.get(peerId);
    if (ban === undefined || !this.#expired(ban)) return ban;
    this.#bans.delete(peerId);
    return undefined;
  }

  /** Bans in force now. */
  get size(): number {
    this.#prune();
    return this.#bans.size;
  }

  list(): PeerBan[] {
    this.#prune();
    return [...this.#bans.values()];
  }

  /**
   * Bans `peerId` (again: the new reason and expiry replace the old) and closes its live session.
   * null when the list is full and `peerId` is not on it.
   */
  ban(peerId: string, reason: string, ttlS: number | null): BanOutcome | null {
    const replaced = this.get(peerId) !== undefined;
    if (!replaced && this.size >= MAX_BANS) return null;
    const nowMs = this.now();
    const ban: PeerBan = {
      peerId,
      reason,
      bannedAtMs: nowMs,
      expiresAtMs: ttlS === null ? null : nowMs + ttlS * 1000,
    };
    this.#bans.set(peerId, ban);
    if (!replaced) this.metrics.bans.added++;
    const session = this.registry.get(peerId);
    if (session !== undefined && this.registry.remove(session)) {
      // Removed here, so the connection's own close finds nothing to remove: the leave is counted here.
      this.metrics.leaves++;
      this.metrics.bans.sessionsClosed++;
      session.evict("banned", banMessage(ban), DIRECTORY_CLOSE_CODES.banned);
    }
    this.logger.info({
      event: "peer_banned",
      peerId,
      reason,
      expiresAtMs: ban.expiresAtMs,
      sessionClosed: session !== undefined,
    });
    return { ban, replaced, sessionClosed: session !== undefined };
  }

  /** Lifts the ban on `peerId`; false if it had none in force. */
  lift(peerId: string): boolean {
    if (this.get(peerId) === undefined) return false;
    this.#bans.delete(peerId);
    this.metrics.bans.lifted++;
    this.logger.info({ event: "peer_unbanned", peerId });
    return true;
  }

  #expired(ban: PeerBan): boolean {
    return ban.expiresAtMs !== null && ban.expiresAtMs <= this.now();
  }

  #prune(): void {
    for (const ban of this.#bans.values()) if (this.#expired(ban)) this.#bans.delete(ban.peerId);
  }
}

/** What a banned peer is told (its app shows it): that it is banned, why, and until when. */
export function banMessage(ban: PeerBan): string {
  const until =
    ban.expiresAtMs === null
      ? "until the operator lifts it"
      : `until ${new Date(ban.expiresAtMs).toISOString()}`;
  return `this peer id is banned from this server's directory ${until}: ${ban.reason}`;
}
