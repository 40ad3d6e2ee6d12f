import type { NowMs } from "../../base/clock.ts";
import { TokenBucket } from "../../net/token-bucket.ts";
import type { XpBatchVerdict } from "../../protocol/experts.ts";
import type { HostBatchLog } from "./batch-log.ts";

/**
 * The batch-verdicts requesters send this host (schema: protocol/experts.ts), applied to its log
 * (batch-log.ts), rate capped per requester: an honest router sends one per batch this host served it, so
 * a requester past `perSecond` (after a burst of `burst`) is flooding; what goes over is dropped and counted,
 * never applied. Ones that match nothing of the sender's are counted by the log.
 */
export const VERDICTS_PER_SECOND = 200;
export const VERDICT_BURST = 200;

export class VerdictIntake {
  readonly #buckets = new Map<string, TokenBucket>();
  /** Verdicts dropped over a requester's rate. */
  overRate = 0;

  constructor(
    private readonly log: HostBatchLog,
    private readonly nowMs: NowMs,
    private readonly perSecond = VERDICTS_PER_SECOND,
    private readonly burst = VERDICT_BURST,
  ) {}

  /** Whether the verdict was applied to an entry. */
  receive(from: string, verdict: XpBatchVerdict): boolean {
    let bucket = this.#buckets.get(from);
    if (!bucket) {
      bucket = new TokenBucket(this.burst, this.perSecond, this.nowMs);
      this.#buckets.set(from, bucket);
    }
    if (!bucket.take()) {
      this.overRate++;
      return false;
    }
    return this.log.applyVerdict(from, verdict.id, verdict.verdict);
  }

  /** The requester's link closed. */
  forget(peerId: string): void {
    this.#buckets.delete(peerId);
  }
}
