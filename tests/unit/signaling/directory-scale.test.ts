import { afterEach, describe, expect, it } from "vitest";
import { RawDirectoryPeer, viewsSettled } from "../../../bench/attack/raw-directory-peer.ts";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import type { Identity } from "../../../src/core/identity/identity.ts";
import type { ServerConfig } from "../../../signaling/config.ts";
import {
  capabilities,
  newClient,
  newIdentity,
  RawSocket,
  startTestServer,
  waitFor,
  type TestServer,
} from "./helpers.ts";

/**
 * Broadcast amplification (issue 10, item 3), against the real in-process server with raw clients that
 * speak the directory protocol and join with real signatures. The per-address limits are raised: they are
 * not under test here (hostile.test.ts covers them), the directory's fan-out is.
 */

const SAMPLE_SIZE = 64;
const servers: TestServer[] = [];
const peers: RawDirectoryPeer[] = [];
const clients: DirectoryClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const p of peers.splice(0)) p.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const t = await startTestServer({
    logLevel: "silent",
    maxConnectionsPerIp: 5_000,
    upgradeRatePerS: 10_000,
    upgradeBurst: 10_000,
    directorySampleSize: SAMPLE_SIZE,
    ...overrides,
  });
  servers.push(t);
  return t;
}

async function identities(n: number): Promise<Identity[]> {
  return Promise.all(Array.from({ length: n }, () => newIdentity()));
}

/** Joins `ids` in waves of 100 (as a storm from many addresses would) and waits for every welcome. */
async function storm(t: TestServer, ids: readonly Identity[]): Promise<RawDirectoryPeer[]> {
  const joined: RawDirectoryPeer[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const wave = ids.slice(i, i + 100).map((id) => new RawDirectoryPeer(t.directoryUrl, id, capabilities()));
    peers.push(...wave);
    joined.push(...wave);
    await Promise.all(wave.map((p) => p.welcomed));
  }
  return joined;
}

/** Directory frames the server sent that are about other peers (challenge, pong and errors excluded). */
function peerFramesOut(t: TestServer): number {
  const out = t.server.metrics().messages.out;
  return (out["welcome"] ?? 0) + (out["peers-changed"] ?? 0) + (out["peers-sample"] ?? 0);
}

function reachableFrom(start: RawDirectoryPeer, swarm: readonly RawDirectoryPeer[]): number {
  const byId = new Map(swarm.map((p) => [p.identity.peerId, p]));
  const seen = new Set([start.identity.peerId]);
  const queue = [start];
  while (queue.length > 0) {
    for (const id of queue.pop()!.known.keys()) {
      if (!seen.has(id) && byId.has(id)) {
        seen.add(id);
        queue.push(byId.get(id)!);
      }
    }
  }
  return seen.size;
}

interface StormResult {
  framesPerJoin: number;
  /** Peers told about each newcomer (`peers-changed` joined records), however they were batched. */
  announcedPerJoin: number;
  maxWelcomeBytes: number;
  maxWelcomePeers: number;
  minKnown: number;
}

async function measureStorm(n: number): Promise<StormResult> {
  const t = await server();
  const swarm = await storm(t, await identities(n));
  await waitFor(() => viewsSettled(swarm), `${n} peers' views to settle`, 120_000);
  const result = {
    framesPerJoin: peerFramesOut(t) / n,
    announcedPerJoin: t.server.metrics().peerRecordsOut.joined / n,
    maxWelcomeBytes: Math.max(...swarm.map((p) => p.welcomeBytes)),
    maxWelcomePeers: Math.max(...swarm.map((p) => p.welcomePeers)),
    minKnown: Math.min(...swarm.map((p) => p.known.size)),
  };
  // Each peer can still reach the whole swarm through who-knows-whom, and knows a full sample.
  expect(reachableFrom(swarm[0]!, swarm)).toBe(n);
  expect(result.minKnown).toBeGreaterThanOrEqual(SAMPLE_SIZE);
  // The server's total reaches a peer that knows only a sample (pong carries it).
  const last = swarm[swarm.length - 1]!;
  last.send({ type: "ping" });
  await waitFor(() => last.total === n - 1, "the pong's total");
  for (const s of swarm) s.close();
  return result;
}

describe("directory at scale", () => {
  it("a join storm costs O(1) frames per join and a bounded welcome, at 200 and at 1,000 peers", async () => {
    const small = await measureStorm(200);
    const big = await measureStorm(1_000);
    // Every join is announced to at most SAMPLE_SIZE acquaintances, plus its welcome. Frames are fewer
    // (announcements to one peer within a tick share a frame), by how many joins a tick saw: not asserted.
    expect(small.announcedPerJoin).toBeLessThanOrEqual(SAMPLE_SIZE);
    expect(big.announcedPerJoin).toBeLessThanOrEqual(SAMPLE_SIZE);
    expect(small.framesPerJoin).toBeLessThanOrEqual(SAMPLE_SIZE + 1);
    expect(big.framesPerJoin).toBeLessThanOrEqual(SAMPLE_SIZE + 1);
    // Independent of N: five times the swarm is far from five times the cost per join (v1: N-1 each).
    expect(big.announcedPerJoin).toBeLessThan(1.5 * small.announcedPerJoin);
    expect(big.announcedPerJoin).toBeGreaterThan(SAMPLE_SIZE / 2);
    // The welcome lists a sample: about 64 peers of ~300 bytes, the same at 200 and 1,000.
    expect(big.maxWelcomeBytes).toBeLessThan(32 * 1024);
    expect(big.maxWelcomeBytes).toBeLessThan(1.2 * small.maxWelcomeBytes);
    expect(big.maxWelcomePeers).toBe(SAMPLE_SIZE);
  }, 300_000);

  it("coalesces a capability-update flood: one takes effect per interval, the latest after it, counted", async () => {
    // The 100 frames are written in one synchronous loop and parsed within milliseconds; a 2 s window
    // leaves them ample time to all land inside it even on a loaded machine.
    const t = await server({ capabilityUpdateIntervalMs: 2_000, messageBurst: 200 });
    const watchers = await storm(t, await identities(5));
    const [flooder] = await storm(t, await identities(1));
    await waitFor(() => viewsSettled([...watchers, flooder!]), "everyone to know the flooder");
    const outBefore = t.server.metrics().messages.out["peers-changed"] ?? 0;

    for (let i = 1; i <= 100; i++) flooder!.updateCapabilities(capabilities({ benchmarkMflops: i }));
    const final = (w: RawDirectoryPeer): unknown =>
      (w.known.get(flooder!.identity.peerId)?.["capabilities"] as { benchmarkMflops?: number })
        .benchmarkMflops;
    await waitFor(() => watchers.every((w) => final(w) === 100), "the latest update to reach everyone");

    const metrics = t.server.metrics();
    expect(metrics.messages.in["update-capabilities"]).toBe(100);
    expect(metrics.capabilityUpdates).toEqual({ applied: 2, coalesced: 98 });
    // The first update and the latest one, to each of 5 watchers: 10 frames, not 500.
    expect((metrics.messages.out["peers-changed"] ?? 0) - outBefore).toBe(10);
    expect(flooder!.closeCode).toBeNull();
  });

  it("a small swarm is a full mesh: every client sees every other, their updates and leaves", async () => {
    const t = await server({ capabilityUpdateIntervalMs: 10_000 });
    for (let i = 0; i < 6; i++) clients.push(newClient(t.directoryUrl, await newIdentity()));
    await Promise.all(clients.map((c) => c.connect()));
    const sees = (c: DirectoryClient, n: number): boolean => c.peers.length === n && c.totalPeers === n;
    await waitFor(() => clients.every((c) => sees(c, 5)), "everyone to see the 5 others");
    for (const c of clients) {
      const others = clients.filter((o) => o !== c).map((o) => o.self!.peerId);
      expect(new Set(c.peers.map((p) => p.peerId))).toEqual(new Set(others));
    }

    clients[0]!.updateCapabilities(capabilities({ benchmarkMflops: 777 }));
    const updatedId = clients[0]!.self!.peerId;
    await waitFor(
      () =>
        clients
          .slice(1)
          .every((c) => c.peers.find((p) => p.peerId === updatedId)?.capabilities.benchmarkMflops === 777),
      "the first update (no throttle wait) to reach everyone",
    );

    clients[5]!.close();
    await waitFor(() => clients.slice(0, 5).every((c) => sees(c, 4)), "the leave to reach everyone");
  });

  it("answers request-peers with peers the asker did not know, at most once per interval, counted", async () => {
    const t = await server({ directorySampleSize: 4, peerRequestIntervalMs: 60_000 });
    const others = await storm(t, await identities(19));
    await waitFor(() => viewsSettled(others), "views to settle");
    // Joins last, alone: nobody joins after it, so it knows exactly its welcome's sample.
    const [asker] = await storm(t, await identities(1));
    const swarm = [...others, asker!];
    await waitFor(() => viewsSettled(swarm), "the asker's acquaintances to learn of it");
    const before = new Set(asker!.known.keys());
    expect(before.size).toBe(4);
    expect(asker!.total).toBe(19);

    asker!.send({ type: "request-peers" });
    await waitFor(() => asker!.framesByType.get("peers-sample") === 1, "the sample");
    const added = [...asker!.known.keys()].filter((id) => !before.has(id));
    expect(added).toHaveLength(4);
    // Symmetric: the new acquaintances are told about the asker.
    await waitFor(() => viewsSettled(swarm), "the new acquaintances to learn of the asker");

    asker!.send({ type: "request-peers" });
    await waitFor(() => asker!.errors.includes("rate_limited"), "the refusal");
    expect(asker!.framesByType.get("peers-sample")).toBe(1);
    // Before a join there is nothing to extend: refused and counted like any early frame.
    const stranger = new RawSocket(t.directoryUrl);
    await stranger.waitForType("challenge");
    stranger.send({ v: 2, type: "request-peers" });
    expect((await stranger.waitForType("error"))["code"]).toBe("not_joined");
    stranger.ws.terminate();

    const metrics = t.server.metrics();
    expect(metrics.peerRequests).toEqual({ answered: 1, refused: 1 });
    expect(metrics.rejected.messages["rate_limited"]).toBe(1);
    expect(metrics.rejected.messages["not_joined"]).toBe(1);
  });

  it("a client whose acquaintances all left asks for more by itself", async () => {
    const t = await server({ directorySampleSize: 3, peerRequestIntervalMs: 100 });
    const swarm = await storm(t, await identities(12));
    await waitFor(() => viewsSettled(swarm), "views to settle");
    const client = newClient(t.directoryUrl, await newIdentity(), {
      minKnownPeers: 2,
      peerRequestIntervalMs: 100,
    });
    clients.push(client);
    await client.connect();
    expect(client.peers).toHaveLength(3);
    expect(client.totalPeers).toBe(12);

    const first = new Set(client.peers.map((p) => p.peerId));
    for (const p of swarm.filter((s) => first.has(s.identity.peerId))) p.close();
    await waitFor(
      () => client.peers.length >= 2 && client.peers.every((p) => !first.has(p.peerId)),
      "the client to top up its thinned sample",
    );
    expect(t.server.metrics().peerRequests.answered).toBeGreaterThanOrEqual(1);
  });
});
