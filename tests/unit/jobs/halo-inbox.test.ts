import { describe, expect, it } from "vitest";
import { HaloInbox } from "../../../src/core/jobs/distributed/halo-inbox.ts";
import type { FromWorker, HaloPart } from "../../../src/core/distributed/index.ts";
import type { HaloPeers } from "../../../src/core/protocol/distributed-peers.ts";

// A held block's peer-to-peer halo inbox (jobs/distributed/halo-inbox.ts). Block 1 needs parts from
// blocks 0 and 2; the requester names their holders per epoch. Every input here is what a modified
// client could send.

const A = `os${"a".repeat(32)}`;
const B = `os${"b".repeat(32)}`;
const C = `os${"c".repeat(32)}`;
const MALLORY = `os${"f".repeat(32)}`;

function peers(epoch: number, routing: "peer" | "coordinator" = "peer"): HaloPeers {
  return {
    v: 1,
    type: "halo-peers",
    epoch,
    routing,
    holders: [
      { block: 0, peerId: A, unitId: "job1/0", attempt: 1 },
      { block: 1, peerId: B, unitId: "job1/1", attempt: 1 },
      { block: 2, peerId: C, unitId: "job1/2", attempt: 2 },
    ],
  };
}

const part = (fromBlock: number, epoch: number, seq: number, values = [1, 2]): HaloPart => ({
  fromBlock,
  toBlock: 1,
  epoch,
  seq,
  values: Float64Array.from(values),
});

function ownHalo(epoch: number, seq: number): Extract<FromWorker, { type: "halo" }> {
  return {
    v: 1,
    type: "halo",
    block: 1,
    epoch,
    seq,
    parts: [0, 2].map((to) => ({ fromBlock: 1, toBlock: to, epoch, seq, values: Float64Array.of(to) })),
  };
}

const inbox = () => new HaloInbox(1, Int32Array.of(0, 0, 2));

describe("peer halo inbox", () => {
  it("sends its parts to the named holders and hands the worker a halo once both sources are in", () => {
    const box = inbox();
    box.setPeers(peers(1));
    expect(box.outgoing(ownHalo(1, 0)).map((d) => [d.peerId, d.unitId, d.attempt])).toEqual([
      [A, "job1/0", 1],
      [C, "job1/2", 2],
    ]);
    expect(box.offer(A, part(0, 1, 0))).toBeNull();
    expect(box.take()).toBeNull(); // block 2's part is missing
    expect(box.offer(C, part(2, 1, 0))).toBeNull();
    const halo = box.take()!;
    expect(halo).toMatchObject({ type: "halo", epoch: 1, seq: 0 });
    expect(halo.parts.map((p) => p.fromBlock)).toEqual([0, 2]);
    expect(box.take()).toBeNull(); // handed over once
  });

  it("keeps a part one exchange ahead until the worker waits for it", () => {
    const box = inbox();
    box.setPeers(peers(1));
    box.outgoing(ownHalo(1, 0));
    expect(box.offer(A, part(0, 1, 1))).toBeNull();
    expect(box.offer(C, part(2, 1, 1))).toBeNull();
    expect(box.take()).toBeNull(); // the worker waits for seq 0
    box.offer(A, part(0, 1, 0));
    box.offer(C, part(2, 1, 0));
    expect(box.take()!.seq).toBe(0);
    box.outgoing(ownHalo(1, 1));
    expect(box.take()!.seq).toBe(1);
  });

  it("drops, by reason, what a modified client could send", () => {
    const box = inbox();
    box.setPeers(peers(2));
    box.outgoing(ownHalo(2, 3));
    expect(box.offer(MALLORY, part(0, 2, 3))).toBe("wrong_sender"); // not the holder of block 0
    expect(box.offer(C, part(0, 2, 3))).toBe("wrong_sender"); // a holder, but of another block
    expect(box.offer(A, { ...part(0, 2, 3), toBlock: 2 })).toBe("misaddressed");
    expect(box.offer(A, { ...part(0, 2, 3), fromBlock: 1 })).toBe("misaddressed"); // not a source
    expect(box.offer(A, { ...part(0, 2, 3), values: Float64Array.of(Number.NaN) })).toBe("malformed");
    expect(box.offer(A, { ...part(0, 2, 3), extra: 1 })).toBe("malformed");
    expect(box.offer(A, part(0, 1, 9))).toBe("stale"); // an older epoch
    expect(box.offer(A, part(0, 2, 2))).toBe("stale"); // an exchange already done
    expect(box.offer(A, part(0, 2, 3))).toBeNull();
    expect(box.offer(A, part(0, 2, 3))).toBe("duplicate");
    // Bounded: a flood of exchanges ahead overflows instead of growing.
    const verdicts = Array.from({ length: 20 }, (_, i) => box.offer(A, part(0, 2, 4 + i)));
    expect(verdicts).toContain("overflow");
    expect(verdicts.filter((v) => v === null).length).toBeLessThan(12);
  });

  it("checks parts of an epoch it was not told about yet once the requester names the holders", () => {
    const box = inbox();
    box.setPeers(peers(1));
    expect(box.offer(MALLORY, part(0, 2, 0))).toBeNull(); // epoch 2 unknown yet: kept, unchecked
    expect(box.offer(C, part(2, 2, 0))).toBeNull();
    expect(box.setPeers(peers(2))).toBe(1); // Mallory's part is disproved and dropped
    box.outgoing(ownHalo(2, 0));
    expect(box.take()).toBeNull(); // still waiting for the real block 0 part
    box.offer(A, part(0, 2, 0));
    expect(box.take()!.parts.map((p) => p.fromBlock)).toEqual([0, 2]);
  });

  it("routes nothing peer to peer in an epoch announced as coordinator routing", () => {
    const box = inbox();
    box.setPeers(peers(3, "coordinator"));
    expect(box.outgoing(ownHalo(3, 0))).toEqual([]);
    expect(box.routingOf(3)).toBe("coordinator");
    expect(box.routingOf(4)).toBe("coordinator"); // not announced: coordinator
  });
});
