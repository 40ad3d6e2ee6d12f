import { describe, expect, it } from "vitest";
import { BlobCache, BlobCacheCleared, BlobWaitTimeout } from "../../../src/core/base/blob-cache.ts";

const blob = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe("BlobCache", () => {
  it("keeps blobs up to its byte cap, least recently used out first", () => {
    const cache = new BlobCache(10);
    cache.put("a", blob(4));
    cache.put("b", blob(4));
    cache.get("a"); // a is now the most recent
    cache.put("c", blob(4));
    expect([cache.has("a"), cache.has("b"), cache.has("c")]).toEqual([true, false, true]);
    expect(cache.totalBytes).toBe(8);
    cache.put("huge", blob(11));
    expect(cache.has("huge")).toBe(false);
  });

  it("hands a blob to its waiters when it arrives, and keeps it", async () => {
    const cache = new BlobCache();
    const waiting = [cache.waitFor("a", 1_000), cache.waitFor("a", 1_000)];
    const bytes = blob(3, 7);
    cache.put("a", bytes);
    expect(await Promise.all(waiting)).toEqual([bytes, bytes]);
    expect(cache.get("a")).toBe(bytes);
    expect(await cache.waitFor("a", 1)).toBe(bytes);
  });

  it("a wait that runs out rejects with BlobWaitTimeout; clear() ends the others with BlobCacheCleared", async () => {
    const cache = new BlobCache();
    await expect(cache.waitFor("late", 5)).rejects.toBeInstanceOf(BlobWaitTimeout);
    const pending = cache.waitFor("never", 60_000);
    cache.put("kept", blob(2));
    cache.clear();
    await expect(pending).rejects.toBeInstanceOf(BlobCacheCleared);
    expect([cache.has("kept"), cache.totalBytes]).toEqual([false, 0]);
  });

  it("with an expiry, drops blobs older than maxAgeMs (on its clock) when another arrives", () => {
    let now = 0;
    const cache = new BlobCache(100, { maxAgeMs: 50, nowMs: () => now });
    cache.put("old", blob(4));
    now = 30;
    cache.put("mid", blob(4));
    now = 60;
    expect(cache.has("old")).toBe(true); // nothing arrived since it aged: still there
    cache.put("new", blob(4));
    expect([cache.has("old"), cache.has("mid"), cache.has("new")]).toEqual([false, true, true]);
    expect(cache.totalBytes).toBe(8);
    now = 200;
    cache.put("too-big", blob(101)); // not kept, but its arrival still ages the others out
    expect([cache.has("mid"), cache.has("new"), cache.totalBytes]).toEqual([false, false, 0]);
  });
});
