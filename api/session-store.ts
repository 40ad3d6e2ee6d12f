import type { ServerMetrics } from "../signaling/metrics.ts";
import type { Session } from "./session.ts";

/**
 * The sessions held now, by id. A finished session stays `ttlMs` for status, x, verify and replay, then is
 * removed by the sweep; a cancelled one (its client left without `detach`) is removed at once, so nothing
 * is left behind. Ids are 32 random bytes: knowing one is what entitles a caller to the session.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly ttlMs: number,
    private readonly metrics: ServerMetrics,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(ttlMs, 30_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Removes finished sessions older than the TTL; returns how many. */
  sweep(nowMs: number): number {
    let removed = 0;
    for (const [id, session] of this.sessions) {
      if (session.finishedAtMs !== null && nowMs - session.finishedAtMs >= this.ttlMs) {
        this.sessions.delete(id);
        this.metrics.api.sessionsExpired++;
        removed++;
      }
    }
    return removed;
  }

  close(): Session[] {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    return all;
  }
}
