/**
 * At most one update per interval takes effect; one that comes sooner waits for the interval to end, and a
 * newer one replaces it (the latest wins). So a peer that floods capability updates costs its acquaintances
 * one `peer-updated` per interval, and its real final state still gets out.
 */
export class UpdateThrottle<T> {
  private lastAppliedAtMs = Number.NEGATIVE_INFINITY;
  private pending: { value: T } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly apply: (value: T) => void,
    /** Told when a waiting update is replaced by a newer one before it took effect. */
    private readonly onSuperseded: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  offer(value: T): void {
    const nowMs = this.now();
    if (this.timer === null && nowMs - this.lastAppliedAtMs >= this.intervalMs) {
      this.lastAppliedAtMs = nowMs;
      this.apply(value);
      return;
    }
    if (this.pending) this.onSuperseded();
    this.pending = { value };
    this.timer ??= setTimeout(() => this.fire(), Math.max(0, this.lastAppliedAtMs + this.intervalMs - nowMs));
  }

  /** Drops a waiting update (the session ended). */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private fire(): void {
    this.timer = null;
    const pending = this.pending;
    this.pending = null;
    if (!pending) return;
    this.lastAppliedAtMs = this.now();
    this.apply(pending.value);
  }
}
