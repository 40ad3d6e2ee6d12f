/**
 * A token bucket: holds up to `capacity` tokens and refills `perSecond` of them continuously. A caller takes
 * tokens for work it is about to do and drops the work when the bucket cannot pay. The clock is injected
 * so tests can drive time instead of sleeping.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    private readonly nowMs: () => number,
  ) {
    this.tokens = capacity;
    this.lastMs = nowMs();
  }

  /** Takes `cost` tokens if the bucket holds them; otherwise takes nothing and returns false. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  get available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.nowMs();
    // A clock that goes backwards (tests, suspended tabs) refills nothing rather than draining.
    const elapsedMs = Math.max(0, now - this.lastMs);
    this.lastMs = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.perSecond) / 1000);
  }
}
