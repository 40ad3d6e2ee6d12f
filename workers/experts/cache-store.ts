/// <reference lib="webworker" />
import type { ModelByteCache } from "../../src/core/experts/models/index.ts";

/**
 * Model bytes in the Cache API, keyed by content hash: a made-up same-origin URL per digest that is never
 * fetched from the network. The Cache API is per origin, so every tab and worker shares one copy, and it
 * survives reloads. Bytes are only put here after they matched their digest and opened (model-bytes.ts).
 */
export const MODEL_CACHE_NAME = "open-swarm-models-v1";
const KEY_PREFIX = "/__open-swarm/models/sha256/";
const DIGEST = /^[0-9a-f]{64}$/;

export class CacheApiModelStore implements ModelByteCache {
  constructor(
    /** Undefined outside secure contexts (http://192.168.x.y): models are then downloaded every time. */
    private readonly storage: CacheStorage | undefined = self.caches,
    private readonly origin: string = self.location.origin,
  ) {}

  async get(sha256: string): Promise<Uint8Array | undefined> {
    const response = await (await this.open()).match(this.key(sha256));
    return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    const body = new Uint8Array(bytes); // a private copy: the caller's view may be on a shared buffer
    const response = new Response(body, {
      headers: { "Content-Type": "application/octet-stream", "Content-Length": String(body.byteLength) },
    });
    await (await this.open()).put(this.key(sha256), response);
  }

  async delete(sha256: string): Promise<boolean> {
    return (await this.open()).delete(this.key(sha256));
  }

  async list(): Promise<string[]> {
    if (!this.storage) return [];
    const requests = await (await this.open()).keys();
    return requests
      .map((request) => new URL(request.url).pathname.slice(KEY_PREFIX.length))
      .filter((digest) => DIGEST.test(digest));
  }

  /** Deletes the whole cache; answers how many models it held. */
  async clear(): Promise<number> {
    const count = (await this.list()).length;
    await this.storage?.delete(MODEL_CACHE_NAME);
    return count;
  }

  private open(): Promise<Cache> {
    if (!this.storage) {
      return Promise.reject(new Error("the Cache API is unavailable here (not a secure context)"));
    }
    return this.storage.open(MODEL_CACHE_NAME);
  }

  private key(sha256: string): string {
    if (!DIGEST.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
    return `${this.origin}${KEY_PREFIX}${sha256}`;
  }
}
