/**
 * Nonces of accepted signed envelopes, remembered for exactly as long as their envelope could still pass
 * the age check (signedAt + maxAge): after that the age check refuses a replay, so forgetting is safe.
 * The size is bounded by what the rate limits let through in one window, not by a fixed count a flood could
 * evict; `maxEntries` is a hard backstop, and when it is reached new envelopes are refused (never old
 * nonces forgotten early).
 */
export type ReplayVerdict = "ok" | "replayed" | "full";

export class ReplayWindow {
  private readonly expiresAt = new Map<string, number>();
  /** Keys by the second they expire in, so a sweep drops whole seconds without scanning every key. */
  private readonly bySecond = new Map<number, string[]>();
  private lastSweepMs = -Infinity;

  constructor(
    private readonly maxAgeMs: number,
    readonly maxEntries: number,
    private readonly nowMs: () => number,
  ) {}

  get size(): number {
    return this.expiresAt.size;
  }

  /** Would this envelope be accepted? (checked before its signature, recorded only after.) */
  peek(from: string, nonce: string): ReplayVerdict {
    this.sweep();
    if (this.expiresAt.has(key(from, nonce))) return "replayed";
    return this.expiresAt.size >= this.maxEntries ? "full" : "ok";
  }

  /** Remembers a verified envelope; "replayed" when the same one was recorded meanwhile (another link). */
  record(from: string, nonce: string, signedAtMs: number): ReplayVerdict {
    const verdict = this.peek(from, nonce);
    if (verdict !== "ok") return verdict;
    const k = key(from, nonce);
    const expires = signedAtMs + this.maxAgeMs;
    this.expiresAt.set(k, expires);
    const second = Math.floor(expires / 1000);
    const list = this.bySecond.get(second);
    if (list) list.push(k);
    else this.bySecond.set(second, [k]);
    return "ok";
  }

  private sweep(): void {
    const now = this.nowMs();
    if (now - this.lastSweepMs < 1000) return;
    this.lastSweepMs = now;
    for (const [second, keys] of this.bySecond) {
      // Whole seconds only: an entry lives up to a second longer than needed, never shorter.
      if ((second + 1) * 1000 > now) continue;
      for (const k of keys) this.expiresAt.delete(k);
      this.bySecond.delete(second);
    }
  }
}

function key(from: string, nonce: string): string {
  return `${from}/${nonce}`;
}
