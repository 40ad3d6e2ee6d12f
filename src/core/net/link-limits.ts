import { TokenBucket } from "./token-bucket.ts";

/**
 * Per-link rate limits on what a peer sends us. Every check here is a counter and a subtraction, so it runs
 * before anything that costs CPU or memory: reassembly, parsing, signature verification, hashing.
 *
 * Defaults sit well above honest traffic: a distributed solve exchanges halos every iteration (hundreds of
 * small `dist` messages a second on a fast link), blobs move at the channel's speed (16–30 MiB/s between
 * two Chromium tabs, see backpressure.ts), while signed bodies (job control) are a few a second.
 * A peer over a limit has the excess dropped (throttled); one that keeps going runs out of strikes and its
 * link is closed (flooding).
 */
export interface RateLimits {
  /** Raw frame bytes per second, and the burst: at least one largest message must fit in the burst. */
  bytesPerSecond: number;
  burstBytes: number;
  /** Messages (counted at their first frame) per second, and the burst. */
  messagesPerSecond: number;
  burstMessages: number;
  /** Signed envelopes per second (each costs a signature verification), and the burst. */
  signedPerSecond: number;
  burstSigned: number;
  /** Pings answered per second (each costs a pong), and the burst. */
  pingsPerSecond: number;
  burstPings: number;
  /** Drops a link may cause before it is closed as flooding; strikes come back at `strikesPerSecond`. */
  floodStrikes: number;
  strikesPerSecond: number;
  /** A peer whose link was closed for flooding is neither dialed nor accepted for this long. */
  floodPenaltyMs: number;
}

export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = {
  bytesPerSecond: 32 * 1024 * 1024,
  burstBytes: 96 * 1024 * 1024,
  messagesPerSecond: 2_000,
  burstMessages: 4_000,
  signedPerSecond: 50,
  burstSigned: 200,
  // Generous for pings: bench/mesh.ts measures round trips with 300 back-to-back pings; a pong is cheap.
  pingsPerSecond: 100,
  burstPings: 400,
  floodStrikes: 256,
  strikesPerSecond: 8,
  floodPenaltyMs: 60_000,
};

/** What the limiter decided: pass, drop this one (throttled), or drop it and close the link (flooding). */
export type RateVerdict = "ok" | "throttled" | "flooding";

export type RateKind = "bytes" | "message" | "signed" | "ping";

/** The buckets of one link. */
export class LinkRateLimiter {
  private readonly buckets: Record<RateKind, TokenBucket>;
  private readonly strikes: TokenBucket;
  /** Drops this link caused, by kind (shown in link stats). */
  readonly throttled: Record<RateKind, number> = { bytes: 0, message: 0, signed: 0, ping: 0 };

  constructor(limits: Readonly<RateLimits>, nowMs: () => number) {
    this.buckets = {
      bytes: new TokenBucket(limits.burstBytes, limits.bytesPerSecond, nowMs),
      message: new TokenBucket(limits.burstMessages, limits.messagesPerSecond, nowMs),
      signed: new TokenBucket(limits.burstSigned, limits.signedPerSecond, nowMs),
      ping: new TokenBucket(limits.burstPings, limits.pingsPerSecond, nowMs),
    };
    this.strikes = new TokenBucket(limits.floodStrikes, limits.strikesPerSecond, nowMs);
  }

  get throttledTotal(): number {
    const t = this.throttled;
    return t.bytes + t.message + t.signed + t.ping;
  }

  check(kind: RateKind, cost = 1): RateVerdict {
    if (this.buckets[kind].take(cost)) return "ok";
    this.throttled[kind]++;
    return this.strikes.take(1) ? "throttled" : "flooding";
  }
}
