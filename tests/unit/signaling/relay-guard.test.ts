import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ServerMetrics } from "../../../signaling/metrics.ts";
import { RelayGuard } from "../../../signaling/relay/guard.ts";
import { PeerBudgets } from "../../../signaling/relay/peer-budgets.ts";
import { PendingRelay } from "../../../signaling/relay/pending.ts";

const A = `os${"a".repeat(32)}`;
const B = `os${"b".repeat(32)}`;
const C = `os${"c".repeat(32)}`;

describe("PendingRelay", () => {
  const limits = { ttlMs: 1_000, maxBytesPerSource: 100, maxBytesPerDestination: 150, maxBytesTotal: 250 };

  it("caps bytes per sender, per destination and in total, and hands frames over in order", () => {
    const pending = new PendingRelay(limits);
    expect(pending.hold(A, B, "x".repeat(60), 0)).toBe("held");
    expect(pending.hold(A, B, "y".repeat(60), 0)).toBe("peerjs_pending_source_full");
    expect(pending.hold(C, B, "z".repeat(60), 0)).toBe("held");
    expect(pending.hold(C, B, "w".repeat(40), 0)).toBe("peerjs_pending_destination_full");
    expect(pending.hold(C, A, "v".repeat(40), 0)).toBe("held");
    expect(pending.totalBytes).toBe(160);
    const third = `os${"d".repeat(32)}`;
    expect(pending.hold(third, C, "u".repeat(95), 0)).toBe("peerjs_pending_full");
    expect(pending.take(B)).toEqual(["x".repeat(60), "z".repeat(60)]);
    expect(pending.totalBytes).toBe(40);
    // Taking released the sender's share: A may hold again.
    expect(pending.hold(A, B, "y".repeat(60), 0)).toBe("held");
  });

  it("expires frames after the TTL, naming each (sender, destination) pair once", () => {
    const pending = new PendingRelay(limits);
    pending.hold(A, B, "1", 0);
    pending.hold(A, B, "2", 10);
    pending.hold(C, B, "3", 500);
    expect(pending.expire(999)).toEqual([]);
    expect(pending.expire(1_010)).toEqual([{ src: A, dst: B }]);
    expect(pending.take(B)).toEqual(["3"]);
    pending.hold(A, C, "4", 2_000);
    expect(pending.dropDestination(C)).toEqual([A]);
    expect(pending.totalBytes).toBe(0);
  });
});

describe("PeerBudgets", () => {
  it("keeps a spent budget per peer id until it refills, then forgets it", () => {
    let now = 0;
    const budgets = new PeerBudgets(
      { framesPerS: 10, frameBurst: 5, bytesPerS: 1_000, byteBurst: 2_000 },
      () => now,
    );
    for (let i = 0; i < 5; i++) expect(budgets.take(A, 10)).toBe(true);
    expect(budgets.take(A, 10)).toBe(false); // the same id on a new socket finds the same bucket
    expect(budgets.take(B, 10)).toBe(true); // another id has its own
    expect(budgets.take(C, 2_001)).toBe(false); // bytes count too
    now = 100;
    expect(budgets.take(A, 10)).toBe(true); // 1 frame refilled
    budgets.prune();
    expect(budgets.size).toBe(1); // B and C have refilled and are forgotten; A is still spent
    expect(budgets.take(A, 10)).toBe(false);
    now = 10_000;
    budgets.prune();
    expect(budgets.size).toBe(0);
  });
});

/** Test double for a ws socket (fault injection: a destination that stops reading). */
class FakeSocket {
  readonly sent: string[] = [];
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  send(text: string): void {
    this.sent.push(text);
  }
}

function guardWith(sockets: Map<string, FakeSocket>, joined: Set<string>) {
  const metrics = new ServerMetrics();
  const flooded: string[] = [];
  const guard = new RelayGuard({
    limits: {
      framesPerS: 100,
      frameBurst: 100,
      bytesPerS: 1e6,
      byteBurst: 1e6,
      maxDestinationBufferedBytes: 1_000,
      pending: {
        ttlMs: 1_000,
        maxBytesPerSource: 10_000,
        maxBytesPerDestination: 10_000,
        maxBytesTotal: 10_000,
      },
    },
    metrics,
    isJoined: (id) => joined.has(id),
    socketOf: (id) => sockets.get(id) as unknown as WebSocket | undefined,
    onFlood: (id) => flooded.push(id),
  });
  return { guard, metrics, flooded };
}

const frame = (type: string, dst: string): Buffer =>
  Buffer.from(JSON.stringify({ type, dst, payload: { x: 1 } }));

describe("RelayGuard", () => {
  it("stops sending to a destination that does not read, and counts it", () => {
    const a = new FakeSocket();
    const b = new FakeSocket();
    const { guard, metrics } = guardWith(
      new Map([
        [A, a],
        [B, b],
      ]),
      new Set([A, B]),
    );
    expect(guard.onFrame(A, frame("OFFER", B), false)).toBe("handled");
    expect(b.sent).toHaveLength(1);
    expect(JSON.parse(b.sent[0]!)).toEqual({ type: "OFFER", src: A, dst: B, payload: { x: 1 } });
    b.bufferedAmount = 5_000;
    guard.onFrame(A, frame("CANDIDATE", B), false);
    expect(b.sent).toHaveLength(1);
    expect(metrics.snapshot(gauges()).rejected.peerjs).toEqual({ peerjs_destination_backlogged: 1 });
    expect(guard.onFrame(A, Buffer.from('{"type":"HEARTBEAT"}'), false)).toBe("to-peer-package");
  });

  it("tells the senders EXPIRE when a held destination's session ends", () => {
    const a = new FakeSocket();
    const { guard } = guardWith(new Map([[A, a]]), new Set([A, C]));
    guard.onFrame(A, frame("OFFER", C), false);
    expect(guard.pendingBytes).toBeGreaterThan(0);
    guard.onSessionEnded(C);
    expect(a.sent.map((t) => JSON.parse(t) as unknown)).toEqual([{ type: "EXPIRE", src: C, dst: A }]);
    expect(guard.pendingBytes).toBe(0);
  });
});

function gauges() {
  return {
    peers: 0,
    directoryConnections: 0,
    peerjsConnections: 0,
    peerjsPendingBytes: 0,
    subscriptions: 0,
    bansActive: 0,
    uptimeS: 0,
  };
}
