import type { Request, RequestHandler } from "express";
import { addressKey, clientAddress, isLoopback } from "../signaling/limits/client-address.ts";
import { ConnectionCounter } from "../signaling/limits/connection-counter.ts";
import { KeyedRateLimiter } from "../signaling/limits/token-bucket.ts";
import type { ApiConfig } from "./config.ts";
import { ApiError } from "./errors.ts";

/**
 * Per-address limits of the API (the directory's own limiters, keyed the same way: an IPv6 /64 counts
 * as one address): who may call at all, requests per second, open streams.
 */
export class ApiLimits {
  private readonly rate: KeyedRateLimiter;
  private readonly streams: ConnectionCounter;
  private readonly pruner: ReturnType<typeof setInterval>;

  constructor(
    private readonly config: ApiConfig,
    private readonly trustProxy: boolean,
  ) {
    this.rate = new KeyedRateLimiter(config.requestRatePerS, config.requestBurst);
    this.streams = new ConnectionCounter(config.maxStreamsPerAddress);
    this.pruner = setInterval(() => this.rate.prune(), 10_000);
    this.pruner.unref();
  }

  private keyOf(req: Request): string {
    return addressKey(clientAddress(req, this.trustProxy));
  }

  /** Refuses remote callers (unless allowed) and callers over their request rate. */
  readonly admit: RequestHandler = (req, _res, next) => {
    if (!this.config.allowRemote && !isLoopback(clientAddress(req, this.trustProxy))) {
      throw new ApiError(
        403,
        "remote_forbidden",
        "the solve API answers this machine only (API_ALLOW_REMOTE=1 opens it)",
      );
    }
    if (!this.rate.take(this.keyOf(req))) {
      throw new ApiError(
        429,
        "rate_limited",
        `more than ${this.config.requestRatePerS} requests per second from this address`,
      );
    }
    next();
  };

  /** Takes one of the address's stream slots; returns its release (idempotent). */
  openStream(req: Request): () => void {
    const key = this.keyOf(req);
    if (!this.streams.canOpen(key)) {
      throw new ApiError(
        429,
        "too_many_streams",
        `this address has ${this.config.maxStreamsPerAddress} streams open, the most it may`,
      );
    }
    this.streams.open(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.streams.release(key);
    };
  }

  close(): void {
    clearInterval(this.pruner);
  }
}
