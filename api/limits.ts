import type { Request, RequestHandler, Response } from "express";
import { addressKey, clientAddress } from "../signaling/limits/client-address.ts";
import { ConnectionCounter } from "../signaling/limits/connection-counter.ts";
import { KeyedRateLimiter } from "../signaling/limits/token-bucket.ts";
import { callerOf } from "./access.ts";
import type { ApiConfig } from "./config.ts";
import { ApiError } from "./errors.ts";

/**
 * The API's request-rate and open-stream limits, per client address (the directory's own limiters, keyed
 * the same way: an IPv6 /64 counts as one address) AND per API key: a key used from many addresses is held
 * to its own budget, and many keys from one address to the address's.
 */
export class ApiLimits {
  private readonly addressRate: KeyedRateLimiter;
  private readonly keyRate: KeyedRateLimiter;
  private readonly addressStreams: ConnectionCounter;
  private readonly keyStreams: ConnectionCounter;
  private readonly pruner: ReturnType<typeof setInterval>;

  constructor(
    private readonly config: ApiConfig,
    private readonly trustProxy: boolean,
  ) {
    this.addressRate = new KeyedRateLimiter(config.requestRatePerS, config.requestBurst);
    this.keyRate = new KeyedRateLimiter(config.keyRequestRatePerS, config.keyRequestBurst);
    this.addressStreams = new ConnectionCounter(config.maxStreamsPerAddress);
    this.keyStreams = new ConnectionCounter(config.maxStreamsPerKey);
    this.pruner = setInterval(() => {
      this.addressRate.prune();
      this.keyRate.prune();
    }, 10_000);
    this.pruner.unref();
  }

  private addressOf(req: Request): string {
    return addressKey(clientAddress(req, this.trustProxy));
  }

  /** Refuses a caller over its address's or its key's request rate (runs after authenticate()). */
  readonly admit: RequestHandler = (req, res, next) => {
    if (!this.addressRate.take(this.addressOf(req))) {
      throw new ApiError(
        429,
        "rate_limited",
        `more than ${this.config.requestRatePerS} requests per second from this address`,
      );
    }
    const { keyId } = callerOf(res);
    if (keyId !== null && !this.keyRate.take(keyId)) {
      throw new ApiError(
        429,
        "key_rate_limited",
        `more than ${this.config.keyRequestRatePerS} requests per second with this API key`,
      );
    }
    next();
  };

  /** Takes one stream slot of the address and of the key; returns their release (idempotent). */
  openStream(req: Request, res: Response): () => void {
    const address = this.addressOf(req);
    const { keyId } = callerOf(res);
    if (!this.addressStreams.canOpen(address)) {
      throw new ApiError(
        429,
        "too_many_streams",
        `this address has ${this.config.maxStreamsPerAddress} streams open, the most it may`,
      );
    }
    if (keyId !== null && !this.keyStreams.canOpen(keyId)) {
      throw new ApiError(
        429,
        "too_many_key_streams",
        `this API key has ${this.config.maxStreamsPerKey} streams open, the most it may`,
      );
    }
    this.addressStreams.open(address);
    if (keyId !== null) this.keyStreams.open(keyId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.addressStreams.release(address);
      if (keyId !== null) this.keyStreams.release(keyId);
    };
  }

  close(): void {
    clearInterval(this.pruner);
  }
}
