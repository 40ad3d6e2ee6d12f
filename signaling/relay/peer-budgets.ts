import { TokenBucket } from "../limits/token-bucket.ts";

export interface PeerBudgetLimits {
  readonly framesPerS: number;
  readonly frameBurst: number;
  readonly bytesPerS: number;
  readonly byteBurst: number;
}

interface Budget {
  readonly frames: TokenBucket;
  readonly bytes: TokenBucket;
}

/**
 * PeerJS frame and byte budgets per peer id, not per socket: a client that reconnects with the same token
 * (or re-joins with the same key) finds its bucket as empty as it left it. A budget is forgotten only once
 * both buckets are full again, when it holds nothing worth keeping; ids need a live directory session to
 * register at all, so the map is as large as the swarm at most.
 */
export class PeerBudgets {
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly limits: PeerBudgetLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one frame of `bytes` from `peerId`'s budget; false if either bucket is short. */
  take(peerId: string, bytes: number): boolean {
    const nowMs = this.now();
    let budget = this.budgets.get(peerId);
    if (!budget) {
      budget = {
        frames: new TokenBucket(this.limits.framesPerS, this.limits.frameBurst, nowMs),
        bytes: new TokenBucket(this.limits.bytesPerS, this.limits.byteBurst, nowMs),
      };
      this.budgets.set(peerId, budget);
    }
    // Take frames first: a refused frame still costs a frame token but no bytes.
    return budget.frames.take(nowMs) && budget.bytes.take(nowMs, bytes);
  }

  prune(): void {
    const nowMs = this.now();
    for (const [peerId, budget] of this.budgets) {
      if (budget.frames.isFull(nowMs) && budget.bytes.isFull(nowMs)) this.budgets.delete(peerId);
    }
  }

  get size(): number {
    return this.budgets.size;
  }
}
