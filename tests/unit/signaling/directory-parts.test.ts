import { afterEach, describe, expect, it, vi } from "vitest";
import { Outbox } from "../../../signaling/directory/outbox.ts";
import { RandomPool } from "../../../signaling/directory/random-pool.ts";
import { UpdateThrottle } from "../../../signaling/directory/update-throttle.ts";
import type { DirectoryPeer } from "../../../src/core/protocol/directory.ts";
import { capabilities } from "./helpers.ts";

function peer(peerId: string, benchmarkMflops = 1): DirectoryPeer {
  return {
    peerId,
    publicKey: "A".repeat(43),
    capabilities: capabilities({ benchmarkMflops }),
    joinedAtMs: 1,
  };
}

describe("Outbox", () => {
  it("cancels a join and a leave within one tick, keeps a leave and rejoin, keeps the latest record", () => {
    const box = new Outbox();
    box.peerJoined(peer("a"));
    box.peerLeft("a"); // never seen by this session: nothing to say
    box.peerLeft("b"); // known before: must be told
    box.peerJoined(peer("b", 2)); // b reloaded within the tick
    box.peerUpdated(peer("b", 3)); // its update folds into the pending join
    box.peerUpdated(peer("c", 4));
    box.peerUpdated(peer("c", 5));
    expect(box.take()).toEqual({ left: ["b"], joined: [peer("b", 3)], updated: [peer("c", 5)] });
    expect(box.isEmpty).toBe(true);
  });
});

describe("RandomPool", () => {
  it("adds, deletes (swap-remove) and picks only members", () => {
    const pool = new RandomPool<number>();
    for (let i = 0; i < 10; i++) pool.add(i);
    pool.add(3);
    pool.delete(0);
    pool.delete(9);
    pool.delete(42);
    expect(pool.size).toBe(8);
    expect([...pool.values()].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let r = 0; r < 1; r += 0.01) expect(pool.has(pool.pick(() => r)!)).toBe(true);
    expect(new RandomPool<number>().pick(Math.random)).toBeUndefined();
  });
});

describe("UpdateThrottle", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("applies the first at once, the latest of a burst after the interval, and counts the replaced", () => {
    vi.useFakeTimers();
    const applied: number[] = [];
    let superseded = 0;
    const throttle = new UpdateThrottle<number>(
      10_000,
      (v) => applied.push(v),
      () => superseded++,
      () => Date.now(),
    );
    for (let i = 1; i <= 100; i++) throttle.offer(i);
    expect(applied).toEqual([1]);
    vi.advanceTimersByTime(9_999);
    expect(applied).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(applied).toEqual([1, 100]);
    expect(superseded).toBe(98);
    // A new burst right after waits for the next window; cancel() drops it (the session ended).
    throttle.offer(101);
    throttle.cancel();
    vi.advanceTimersByTime(20_000);
    expect(applied).toEqual([1, 100]);
  });
});
