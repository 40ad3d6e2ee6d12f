/**
 * One budget for the bytes all links together hold for incoming data: partial messages being reassembled,
 * complete messages waiting in a link's inbox, and blobs until they are hashed and handed on. A message
 * reserves its full size at its first frame (the framing tells the size up front), so a message that does
 * not fit is refused before a byte of it is buffered or hashed. One link may hold at most `perLinkBytes`,
 * so a single flooding peer cannot starve the others.
 */
export interface MemoryBudgetOptions {
  totalBytes: number;
  perLinkBytes: number;
}

export const DEFAULT_MEMORY_BUDGET: Readonly<MemoryBudgetOptions> = {
  totalBytes: 256 * 1024 * 1024,
  // A largest message (64 MiB) plus room for the small traffic that follows it.
  perLinkBytes: 80 * 1024 * 1024,
};

export interface MemoryBudgetStats {
  readonly totalBytes: number;
  readonly usedBytes: number;
  /** The most ever held at once (tests check a refused message never got buffered). */
  readonly peakBytes: number;
  readonly refused: number;
}

export class MemoryBudget {
  private used = 0;
  private peak = 0;
  private refusedCount = 0;

  constructor(readonly options: Readonly<MemoryBudgetOptions>) {}

  get stats(): MemoryBudgetStats {
    return {
      totalBytes: this.options.totalBytes,
      usedBytes: this.used,
      peakBytes: this.peak,
      refused: this.refusedCount,
    };
  }

  /** A per-link account drawing on this budget. */
  account(): MemoryAccount {
    return new MemoryAccount(this);
  }

  /** @internal (MemoryAccount) */
  tryTake(bytes: number, linkUsed: number): boolean {
    if (linkUsed + bytes > this.options.perLinkBytes || this.used + bytes > this.options.totalBytes) {
      this.refusedCount++;
      return false;
    }
    this.used += bytes;
    this.peak = Math.max(this.peak, this.used);
    return true;
  }

  /** @internal (MemoryAccount) */
  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/** One link's share: reservations it holds, all returned when the link closes. */
export class MemoryAccount {
  private held = 0;

  constructor(private readonly budget: MemoryBudget) {}

  get heldBytes(): number {
    return this.held;
  }

  reserve(bytes: number): boolean {
    if (!this.budget.tryTake(bytes, this.held)) return false;
    this.held += bytes;
    return true;
  }

  release(bytes: number): void {
    const amount = Math.min(bytes, this.held);
    this.held -= amount;
    this.budget.give(amount);
  }

  releaseAll(): void {
    this.release(this.held);
  }
}
