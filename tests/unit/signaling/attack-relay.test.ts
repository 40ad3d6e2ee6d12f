import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { DEFAULT_CONFIG } from "../../../signaling/config.ts";
import {
  newClient,
  newIdentity,
  registerRawPeerJs,
  startTestServer,
  waitFor,
  type RawSocket,
  type TestServer,
} from "./helpers.ts";

// Attack tests for issue 10 item 1: a joined client floods the PeerJS relay.
let t: TestServer;
const clients: DirectoryClient[] = [];
const raws: RawSocket[] = [];

beforeAll(async () => {
  // Held frames outlive any test here (machine load cannot expire them); expiry has its own server below.
  t = await startTestServer({ peerjsPendingTtlMs: 60_000 });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const r of raws.splice(0)) r.ws.terminate();
});
afterAll(async () => {
  await t.close();
});

async function joined(server: TestServer = t): Promise<DirectoryClient> {
  const client = newClient(server.directoryUrl, await newIdentity());
  clients.push(client);
  await client.connect();
  return client;
}

async function registerPeerJs(client: DirectoryClient, server: TestServer = t): Promise<RawSocket> {
  const raw = await registerRawPeerJs(server.baseUrl, client);
  raws.push(raw);
  return raw;
}

function offer(dst: string, sdpBytes: number): string {
  return JSON.stringify({
    type: "OFFER",
    dst,
    payload: { sdp: { type: "offer", sdp: "v".repeat(sdpBytes) }, type: "data", connectionId: "dc_x" },
  });
}

function offlineId(): string {
  return `os${randomBytes(16).toString("hex")}`;
}

async function healthy(): Promise<void> {
  expect((await fetch(`${t.baseUrl}/api/v1/health`)).status).toBe(200);
}

/** A legitimate pair still gets its offer through. */
async function victimPairWorks(): Promise<void> {
  const alice = await joined();
  const bob = await joined();
  const aliceWs = await registerPeerJs(alice);
  const bobWs = await registerPeerJs(bob);
  aliceWs.ws.send(offer(bob.self!.peerId, 2_000));
  const received = await bobWs.waitForType("OFFER");
  expect(received["src"]).toBe(alice.self!.peerId);
}

describe("PeerJS relay flood", () => {
  it("keeps nothing for ids that never joined, and the budget survives reconnects with the same token", async () => {
    const attacker = await joined();
    const targets = Array.from({ length: 64 }, offlineId);
    const frame = (i: number): string => offer(targets[i % targets.length]!, 15_000);
    const frameBytes = Buffer.byteLength(frame(0));
    const startedMs = Date.now();
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      // The same directory token every time: a per-socket limit would start afresh here.
      const ws = await registerPeerJs(attacker);
      for (let i = 0; i < 600; i++) ws.ws.send(frame(i));
      expect(await ws.waitForClose()).toBe(1006); // terminated for spending its budget
    }
    const elapsedS = (Date.now() - startedMs) / 1000;
    const metrics = t.server.metrics();
    const dropped = metrics.rejected.peerjs["peerjs_unknown_destination"] ?? 0;
    expect(metrics.rejected.peerjs["peerjs_rate_limited"]).toBeGreaterThanOrEqual(rounds);
    // One budget for the peer id across all 8 sockets: its burst plus what refilled meanwhile, plus the
    // first frame of each reconnect (a per-socket limit would have admitted ~8 bursts).
    const budget =
      (DEFAULT_CONFIG.peerjsByteBurst + DEFAULT_CONFIG.peerjsByteRatePerS * elapsedS) / frameBytes;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual(Math.ceil(budget) + rounds);
    // Nothing is held for ids without a directory session.
    expect(metrics.peerjsPendingBytes).toBe(0);
    // (The server's RSS under the same flood, as its own process, is checked in attack-relay-rss.test.ts.)

    // A flooded id that joins afterwards is not handed the flood: its first OFFER is a real one.
    const late = newClient(t.directoryUrl, await newIdentity());
    clients.push(late);
    await late.connect();
    expect(targets).not.toContain(late.self!.peerId); // (ids are random; the point is the next check)
    const lateWs = await registerPeerJs(late);
    const honest = await joined();
    const honestWs = await registerPeerJs(honest);
    honestWs.ws.send(offer(late.self!.peerId, 100));
    await lateWs.waitForType("OFFER");
    expect(lateWs.messages.filter((m) => m["type"] === "OFFER").map((m) => m["src"])).toEqual([
      honest.self!.peerId,
    ]);
    await healthy();
    await victimPairWorks();
  });

  it("does not deliver a flood aimed at an id before it joined (the `peer` package queued those)", async () => {
    const attacker = await joined();
    const attackerWs = await registerPeerJs(attacker);
    const victimIdentity = await newIdentity();
    for (let i = 0; i < 20; i++) attackerWs.ws.send(offer(victimIdentity.peerId, 10_000));
    // Each OFFER to an id without a session is answered EXPIRE at once (PeerJS: "peer-unavailable").
    await attackerWs.waitForType("EXPIRE", 19);
    expect(attackerWs.messages.find((m) => m["type"] === "EXPIRE")?.["src"]).toBe(victimIdentity.peerId);

    const victim = newClient(t.directoryUrl, victimIdentity);
    clients.push(victim);
    await victim.connect();
    const victimWs = await registerPeerJs(victim);
    attackerWs.ws.send(offer(victimIdentity.peerId, 100)); // now a legitimate, registered destination
    await victimWs.waitForType("OFFER");
    expect(victimWs.messages.filter((m) => m["type"] === "OFFER")).toHaveLength(1);
    await healthy();
  });

  it("holds an offer for a peer that joined but has not registered yet, within a per-sender cap", async () => {
    const alice = await joined();
    const bob = await joined(); // in the directory, no PeerJS socket yet: the real dial race
    const aliceWs = await registerPeerJs(alice);
    const before = t.server.metrics().rejected.peerjs["peerjs_pending_source_full"] ?? 0;
    for (let i = 0; i < 8; i++) aliceWs.ws.send(offer(bob.self!.peerId, 15_000));
    await waitFor(
      () => (t.server.metrics().rejected.peerjs["peerjs_pending_source_full"] ?? 0) - before === 4,
      "the frames over the 64 KiB per-sender cap to be refused",
    );
    expect(t.server.metrics().peerjsPendingBytes).toBeLessThanOrEqual(
      DEFAULT_CONFIG.peerjsPendingBytesPerSource,
    );
    await aliceWs.waitForType("EXPIRE"); // the refused OFFERs fail fast on the sender's side

    const bobWs = await registerPeerJs(bob);
    await bobWs.waitForType("OFFER", 3);
    expect(
      bobWs.messages.filter((m) => m["type"] === "OFFER").every((m) => m["src"] === alice.self!.peerId),
    ).toBe(true);
    expect(t.server.metrics().peerjsPendingBytes).toBe(0);
  });

  it("expires held frames and tells the sender", async () => {
    const short = await startTestServer({ peerjsPendingTtlMs: 200 });
    try {
      const alice = await joined(short);
      const carol = await joined(short); // never registers with PeerJS
      const aliceWs = await registerPeerJs(alice, short);
      aliceWs.ws.send(offer(carol.self!.peerId, 500));
      const expire = await aliceWs.waitForType("EXPIRE");
      expect(expire["src"]).toBe(carol.self!.peerId);
      // Held (carol has a session), then expired: not dropped as an unknown destination.
      expect(short.server.metrics().rejected.peerjs).toEqual({ peerjs_pending_expired: 1 });
      expect(short.server.metrics().peerjsPendingBytes).toBe(0);
    } finally {
      for (const r of raws.splice(0)) r.ws.terminate();
      for (const c of clients.splice(0)) c.close();
      await short.close();
    }
  });

  it("closes a socket that sends a frame over 16 KiB, and drops frames a client may not send", async () => {
    const mallory = await joined();
    const bob = await joined();
    const bobWs = await registerPeerJs(bob);
    const malloryWs = await registerPeerJs(mallory);
    // LEAVE without dst would make the `peer` package forget mallory's registration; EXPIRE is the server's.
    malloryWs.send({ type: "LEAVE" });
    malloryWs.send({ type: "EXPIRE", dst: bob.self!.peerId });
    malloryWs.send({ type: "OFFER", dst: "not-a-peer-id", payload: {} });
    malloryWs.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    malloryWs.ws.send(offer(bob.self!.peerId, 100));
    await bobWs.waitForType("OFFER");
    const rejected = t.server.metrics().rejected.peerjs;
    expect(rejected["peerjs_invalid_frame"]).toBeGreaterThanOrEqual(3);
    expect(rejected["peerjs_binary_frame"]).toBeGreaterThanOrEqual(1);
    expect(bobWs.messages.some((m) => m["type"] === "EXPIRE")).toBe(false);

    malloryWs.ws.send(offer(bob.self!.peerId, 17 * 1024));
    expect(await malloryWs.waitForClose()).toBe(1009);
    await waitFor(
      () => (t.server.metrics().rejected.peerjs["peerjs_too_large"] ?? 0) >= 1,
      "too_large counted",
    );
    expect(bobWs.messages.filter((m) => m["type"] === "OFFER")).toHaveLength(1);
    await healthy();
    await victimPairWorks();
  });
});
