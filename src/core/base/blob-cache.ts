import type { NowMs } from "./clock.ts";
import { CodedError } from "./coded-error.ts";

/**
 * Blobs received from peers, by SHA-256 (the mesh already checked each digest on arrival). A volunteer keeps
 * a job's matrix here, so a multi-rhs job sends A once per volunteer; the requester finds the solution
 * vectors of a result here; an expert host keeps model bytes here until the host-request naming them comes.
 * Bounded by bytes, least recently used first out: a peer that floods blobs can only evict, never grow
 * memory past the cap. Optionally bounded in age too: blobs older than maxAgeMs are dropped when another
 * arrives (bytes nobody asked for do not stay for the session). Waiters cover a blob still on its way.
 */
export const DEFAULT_BLOB_CACHE_BYTES = 256 * 1024 * 1024;

/** Blobs older than maxAgeMs (since they arrived, on `nowMs`) are dropped. */
export interface BlobExpiry {
  readonly maxAgeMs: number;
  readonly nowMs: NowMs;
}

interface Waiter {
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class BlobWaitTimeout extends CodedError<"blob_wait_timeout"> {
  override readonly name = "BlobWaitTimeout";

  constructor(message: string) {
    super("blob_wait_timeout", message);
  }
}

/** A wait ended by clear(): the cache's owner is shutting down. */
export class BlobCacheCleared extends CodedError<"blob_cache_cleared"> {
  override readonly name = "BlobCacheCleared";

  constructor(message: string) {
    super("blob_cache_cleared", message);
  }
}

interface Entry {
  readonly bytes: Uint8Array;
  readonly arrivedAtMs: number;
}

export class BlobCache {
  readonly #maxBytes: number;
  readonly #expiry: BlobExpiry | null;
  /** Insertion order = recency (a get moves the entry to the end). */
  readonly #entries = new Map<string, Entry>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  #bytes = 0;

  constructor(maxBytes: number = DEFAULT_BLOB_CACHE_BYTES, expiry: BlobExpiry | null = null) {
    this.#maxBytes = maxBytes;
    this.#expiry = expiry;
  }

  get totalBytes(): number {
    return this.#bytes;
  }

  has(sha256: string): boolean {
    return this.#entries.has(sha256);
  }

  get(sha256: string): Uint8Array | undefined {
    const entry = this.#entries.get(sha256);
    if (entry !== undefined) {
      this.#entries.delete(sha256);
      this.#entries.set(sha256, entry);
    }
    return entry?.bytes;
  }

  put(sha256: string, bytes: Uint8Array): void {
    const waiters = this.#waiters.get(sha256);
    if (waiters !== undefined) {
      this.#waiters.delete(sha256);
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.resolve(bytes);
      }
    }
    const now = this.#expiry?.nowMs() ?? 0;
    if (this.#expiry !== null) {
      for (const [key, entry] of this.#entries) {
        if (now - entry.arrivedAtMs > this.#expiry.maxAgeMs) this.delete(key);
      }
    }
    if (bytes.length > this.#maxBytes) return;
    this.delete(sha256);
    this.#entries.set(sha256, { bytes, arrivedAtMs: now });
    this.#bytes += bytes.length;
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes.length;
    }
  }

  delete(sha256: string): void {
    const old = this.#entries.get(sha256);
    if (old === undefined) return;
    this.#entries.delete(sha256);
    this.#bytes -= old.bytes.length;
  }

  /** The blob, now or once it arrives; rejects with BlobWaitTimeout after timeoutMs. */
  waitFor(sha256: string, timeoutMs: number): Promise<Uint8Array> {
    const have = this.get(sha256);
    if (have !== undefined) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      let set = this.#waiters.get(sha256);
      if (set === undefined) this.#waiters.set(sha256, (set = new Set()));
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(waiter);
          if (set.size === 0) this.#waiters.delete(sha256);
          reject(new BlobWaitTimeout(`blob ${sha256.slice(0, 12)}… did not arrive within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      set.add(waiter);
    });
  }

  /** Forgets every blob; pending waits reject with BlobCacheCleared. */
  clear(): void {
    for (const set of this.#waiters.values()) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new BlobCacheCleared("the blob cache was cleared"));
      }
    }
    this.#waiters.clear();
    this.#entries.clear();
    this.#bytes = 0;
  }
}
