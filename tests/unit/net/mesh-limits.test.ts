import { describe, expect, it, vi } from "vitest";
import { signEnvelope } from "../../../src/core/identity/signed-envelope.ts";
import { sha256Hex } from "../../../src/core/base/digest.ts";
import { buildFrame, CHUNK_PAYLOAD_BYTES } from "../../../src/core/net/framing.ts";
import type * as digestModule from "../../../src/core/base/digest.ts";
import {
  MemoryHub,
  infoOf,
  introduce,
  manualClock,
  nextEvent,
  sortedIdentities,
  startMesh,
  until,
} from "./mesh-harness.ts";

// Hostile-peer limits on the data channel (issue 10): rate limits before any work, one memory budget,
// directory-only links, a link cap, and signed messages only within an age window. The flooding and forging
// peers are ordinary meshes using the test-only debugSendRaw (fault injection: traffic no honest client sends).

// Counts every SHA-256 computed, by input size, to prove a refused blob is never hashed.
vi.mock("../../../src/core/base/digest.ts", async (importOriginal) => {
  const original = await importOriginal<typeof digestModule>();
  return { ...original, sha256Hex: vi.fn(original.sha256Hex) };
});

const MiB = 1024 * 1024;

describe("per-link rate limits", () => {
  it("throttles then closes a flooding peer, counts it, and the honest link keeps working", async () => {
    const hub = new MemoryHub();
    const [a, b, c] = await sortedIdentities(3);
    const clock = manualClock(); // frozen: buckets do not refill, so the outcome does not depend on speed
    const victimOptions = {
      nowMs: clock.nowMs,
      rateLimits: { burstMessages: 100, messagesPerSecond: 50, floodStrikes: 20, strikesPerSecond: 1 },
    };
    // The victim is `b`, between the two: it dials `c` and is dialed by `a`, so both directions are covered.
    const flooder = await startMesh(hub, a!);
    const victim = await startMesh(hub, b!, victimOptions);
    const honest = await startMesh(hub, c!);
    introduce([flooder, a!], [victim, b!], [honest, c!]);
    // Both ends of both links: one end can see its link open before the other does.
    await Promise.all([
      victim.waitForPeer(a!.peerId),
      victim.waitForPeer(c!.peerId),
      flooder.waitForPeer(b!.peerId),
      honest.waitForPeer(b!.peerId),
    ]);

    const closed = nextEvent(victim, "peer-close", (e) => e.peerId === a!.peerId);
    // 1,000 well-formed messages as fast as the channel takes them (a pong answers nothing: no work asked).
    const flood = Array.from({ length: 1000 }, (_, i) =>
      flooder.debugSendRaw(b!.peerId, { v: 1, type: "pong", replyTo: `flood${i}` }).catch(() => undefined),
    );
    await Promise.all(flood);
    expect((await closed).reason).toMatch(/^flooding/);
    const counters = victim.counters;
    expect(counters.linksClosedForFlooding).toBe(1);
    // 100 passed (the burst), 20 dropped as throttled strikes, the 21st closed the link.
    expect(counters.throttledMessages).toBe(21);
    expect(victim.connectedPeerIds()).toEqual([c!.peerId]);

    // The honest peer is unaffected: a signed note and a ping both go through.
    const note = nextEvent(victim, "signed");
    await honest.sendSigned(b!.peerId, { type: "note", text: "still here" });
    expect((await note).body).toMatchObject({ text: "still here" });
    await expect(honest.ping(b!.peerId)).resolves.toBeGreaterThanOrEqual(0);

    // The flooder's redial (it is the dialer) is refused during its penalty, and counted.
    await until(() => victim.counters.floodersRefused >= 1, "flooder refused on redial");
    expect(victim.connectedPeerIds()).toEqual([c!.peerId]);
  });

  it("applies the signed-message rate limit before any signature is verified", async () => {
    const hub = new MemoryHub();
    const [a, b] = await sortedIdentities(2);
    const clock = manualClock();
    const sender = await startMesh(hub, a!);
    const receiver = await startMesh(hub, b!, {
      nowMs: clock.nowMs,
      rateLimits: { burstSigned: 20, signedPerSecond: 1, floodStrikes: 10_000 },
    });
    introduce([sender, a!], [receiver, b!]);
    await Promise.all([receiver.waitForPeer(a!.peerId), sender.waitForPeer(b!.peerId)]);
    const envelope = await sender.signEnvelope({ type: "note", text: "pay me 1" }, b!.peerId);
    const forged = { ...envelope, body: envelope.body.replace("pay me 1", "pay me 9") };
    await Promise.all(Array.from({ length: 300 }, () => sender.debugSendRaw(b!.peerId, forged)));
    await until(() => receiver.counters.throttledMessages === 280, "280 throttled");
    await until(() => receiver.counters.forgedSignatures === 20, "20 verified and found forged");
    expect(receiver.counters.forgedSignatures).toBe(20);
  });
});

describe("memory budget", () => {
  it("refuses a blob beyond the budget at its first frame, before buffering or hashing it", async () => {
    const hub = new MemoryHub();
    const [a, b] = await sortedIdentities(2);
    const sender = await startMesh(hub, a!);
    const receiver = await startMesh(hub, b!, {
      memoryBudget: { totalBytes: 1 * MiB, perLinkBytes: 1 * MiB },
    });
    introduce([sender, a!], [receiver, b!]);
    await Promise.all([receiver.waitForPeer(a!.peerId), sender.waitForPeer(b!.peerId)]);
    const hashed = vi.mocked(sha256Hex);
    hashed.mockClear();

    const big = crypto.getRandomValues(new Uint8Array(60_000)).slice(); // pattern, repeated below
    const tooBig = new Uint8Array(2 * MiB);
    for (let i = 0; i < tooBig.length; i += big.length) tooBig.set(big.subarray(0, tooBig.length - i), i);
    await expect(sender.sendBlob(b!.peerId, tooBig)).rejects.toMatchObject({
      code: "blob_rejected",
      message: expect.stringMatching(/memory budget/),
    });
    expect(receiver.counters.overBudgetRefused).toBe(1);
    expect(receiver.counters.blobsReceived).toBe(0);
    // Only the sender hashed the 2 MiB (to announce it); the receiver never did, nor buffered it.
    expect(hashed.mock.calls.filter(([bytes]) => bytes.length === tooBig.length)).toHaveLength(1);
    expect(receiver.memoryStats.peakBytes).toBeLessThan(64 * 1024);

    // The refused blob's remaining frames are skipped quietly (not invalid), and a blob that fits still works.
    const fits = tooBig.subarray(0, 512 * 1024);
    const receipt = await sender.sendBlob(b!.peerId, fits);
    expect(receipt.byteLength).toBe(fits.length);
    expect(receiver.counters.blobsReceived).toBe(1);
    expect(receiver.counters.invalidMessages).toBe(0);
    await until(() => receiver.memoryStats.usedBytes === 0, "budget returned after processing");
  });
});

describe("memory budget across links", () => {
  it("caps what one link may hold, so a peer filling it with partial messages cannot starve the others", async () => {
    const hub = new MemoryHub();
    const [a, b, c] = await sortedIdentities(3);
    const hog = await startMesh(hub, a!);
    const victim = await startMesh(hub, b!, {
      memoryBudget: { totalBytes: 3 * MiB, perLinkBytes: 2 * MiB },
    });
    const honest = await startMesh(hub, c!);
    introduce([hog, a!], [victim, b!], [honest, c!]);
    // Both ends of both links: one end can see its link open before the other does.
    await Promise.all([
      victim.waitForPeer(a!.peerId),
      victim.waitForPeer(c!.peerId),
      hog.waitForPeer(b!.peerId),
      honest.waitForPeer(b!.peerId),
    ]);
    // Fault injection: first frames of five ~1 MiB messages (64 frames) whose other frames never come.
    const chunk = new Uint8Array(CHUNK_PAYLOAD_BYTES);
    const count = 64;
    for (let id = 1000; id < 1005; id++) await hog.debugSendRaw(b!.peerId, buildFrame(id, 0, count, chunk));
    await until(() => victim.counters.overBudgetRefused === 3, "three refused over the link's share");
    expect(victim.memoryStats.usedBytes).toBe(2 * count * CHUNK_PAYLOAD_BYTES);
    // The honest peer's blob still fits in what is left of the total.
    const blob = crypto.getRandomValues(new Uint8Array(60_000));
    await expect(honest.sendBlob(b!.peerId, blob)).resolves.toMatchObject({ byteLength: blob.length });
    expect(victim.counters.blobsReceived).toBe(1);
  });
});

describe("who gets a link", () => {
  it("refuses an incoming link from an id the directory never announced, after the grace", async () => {
    const hub = new MemoryHub();
    const [a, b] = await sortedIdentities(2);
    const stranger = await startMesh(hub, a!);
    const victim = await startMesh(hub, b!, { unknownPeerGraceMs: 50 });
    // Only the stranger knows the victim (it learned the id elsewhere): it dials.
    stranger.updatePeers([infoOf(b!)]);
    const refused = nextEvent(victim, "rejected", (e) => e.code === "unknown_peer");
    expect(await refused).toMatchObject({ peerId: a!.peerId, kind: "refused" });
    expect(victim.counters.unknownPeersRefused).toBe(1);
    expect(victim.counters.handshakesCompleted).toBe(0);
    expect(victim.connectedPeerIds()).toEqual([]);
  });

  it("admits a held link when the dialer's join reaches the directory after its offer", async () => {
    const hub = new MemoryHub();
    const [a, b] = await sortedIdentities(2);
    const dialer = await startMesh(hub, a!);
    const late = await startMesh(hub, b!, { unknownPeerGraceMs: 10_000 });
    dialer.updatePeers([infoOf(b!)]);
    // Force the race: the offer arrives (and the channel opens, the dialer's hello with it) first.
    await until(() => hub.links.length === 2 && hub.links.every((l) => l.channel !== null), "channel open");
    await until(() => dialer.linkStats()[0]?.state === "handshaking", "dialer sent its hello");
    expect(late.linkStats()).toEqual([]);
    const opened = nextEvent(late, "peer-open");
    late.updatePeers([infoOf(a!)]);
    expect((await opened).peerId).toBe(a!.peerId);
    await dialer.waitForPeer(b!.peerId);
    expect(late.counters.unknownPeersRefused).toBe(0);
  });

  it("keeps at most maxLinks links, dialing the preferred peers first", async () => {
    const hub = new MemoryHub();
    const ids = await sortedIdentities(5);
    const meshes = await Promise.all(ids.map((id) => startMesh(hub, id, { maxLinks: 2 })));
    // joinedAtMs decides the preference: the highest ids joined first, so the lowest peer prefers them.
    const infos = ids.map((id, i) => infoOf(id, 100 - i));
    let peak = 0;
    for (const mesh of meshes) mesh.on("stats", () => (peak = Math.max(peak, mesh.linkStats().length)));
    for (const mesh of meshes) mesh.updatePeers(infos);
    const lowest = meshes[0]!;
    await until(() => lowest.connectedPeerIds().length === 2, "lowest has two links");
    expect(lowest.connectedPeerIds().sort()).toEqual([ids[3]!.peerId, ids[4]!.peerId].sort());
    await until(() => meshes.every((m) => m.linkStats().every((l) => l.state === "open")), "settled");
    for (const mesh of meshes) expect(mesh.linkStats().length).toBeLessThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(2);
    // Five peers want 10 links, the cap allows 5: some offers were refused, and counted.
    const refusedTotal = meshes.reduce((sum, m) => sum + m.counters.linkCapRefused, 0);
    expect(refusedTotal).toBeGreaterThan(0);
  });
});

describe("signed messages: age window and replays", () => {
  it("refuses messages older than the window or from the future, before checking signatures", async () => {
    const hub = new MemoryHub();
    const [a, b] = await sortedIdentities(2);
    const sender = await startMesh(hub, a!);
    const receiver = await startMesh(hub, b!, { maxMessageAgeMs: 180_000, maxClockSkewMs: 60_000 });
    introduce([sender, a!], [receiver, b!]);
    await Promise.all([receiver.waitForPeer(a!.peerId), sender.waitForPeer(b!.peerId)]);
    const old = await signEnvelope(
      a!,
      { type: "note", text: "old" },
      { to: b!.peerId, nowMs: Date.now() - 10 * 60_000 },
    );
    const future = await signEnvelope(
      a!,
      { type: "note", text: "later" },
      { to: b!.peerId, nowMs: Date.now() + 5 * 60_000 },
    );
    // A stale envelope with a broken signature: refused for its age, the signature never looked at.
    const staleForged = { ...old, sig: future.sig };
    const codes: string[] = [];
    receiver.on("rejected", (e) => codes.push(e.code));
    for (const envelope of [old, future, staleForged]) await sender.debugSendRaw(b!.peerId, envelope);
    await until(() => codes.length === 3, "three rejections");
    expect(codes).toEqual(["stale", "from_future", "stale"]);
    expect(receiver.counters.staleMessages).toBe(3);
    expect(receiver.counters.forgedSignatures).toBe(0);
    const fresh = nextEvent(receiver, "signed");
    await sender.sendSigned(b!.peerId, { type: "note", text: "fresh" });
    expect((await fresh).body).toMatchObject({ text: "fresh" });
  });

  it("refuses a replayed nonce within the window even after 10,000 other messages", async () => {
    const hub = new MemoryHub();
    const [a, b] = await sortedIdentities(2);
    const unlimited = {
      burstSigned: 1e6,
      signedPerSecond: 1e6,
      burstMessages: 1e6,
      messagesPerSecond: 1e6,
    };
    const sender = await startMesh(hub, a!);
    const receiver = await startMesh(hub, b!, { rateLimits: unlimited });
    introduce([sender, a!], [receiver, b!]);
    await Promise.all([receiver.waitForPeer(a!.peerId), sender.waitForPeer(b!.peerId)]);
    let received = 0;
    receiver.on("signed", () => received++);
    const first = await sender.sendSigned(b!.peerId, { type: "note", text: "pay once" });
    for (let batch = 0; batch < 20; batch++) {
      const envelopes = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          sender.signEnvelope({ type: "note", text: `n${batch}-${i}` }, b!.peerId),
        ),
      );
      await Promise.all(envelopes.map((e) => sender.debugSendRaw(b!.peerId, e)));
    }
    await until(() => received === 10_001, "the first and 10,000 others accepted", 60_000);
    const rejected = nextEvent(receiver, "rejected");
    await sender.debugSendRaw(b!.peerId, first);
    expect(await rejected).toMatchObject({ kind: "invalid", code: "replayed" });
    expect(receiver.counters.replayedMessages).toBe(1);
  }, 90_000);
});
