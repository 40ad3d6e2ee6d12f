import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { DirectoryQueryError, type WatchChange } from "../../../src/core/net/directory-queries.ts";
import type { Capabilities } from "../../../src/core/protocol/capabilities.ts";
import { decodeDirectoryClientFrame } from "../../../src/core/protocol/directory.ts";
import {
  MAX_QUERY_K,
  MAX_SUBSCRIPTIONS_PER_PEER,
  filterKey,
  peerMatches,
} from "../../../src/core/protocol/directory-query.ts";
import {
  capabilities,
  newClient,
  newIdentity,
  startTestServer,
  waitFor,
  type TestServer,
} from "./helpers.ts";

/**
 * Directory queries and subscriptions (issue 12, item 1): the query language on its own, then against the
 * real in-process server with real signed joins.
 */

const GPU = {
  architecture: "test",
  vendor: "test",
  maxStorageBufferBindingSize: 1 << 27,
  maxBufferSize: 1 << 28,
  maxComputeWorkgroupSizeX: 256,
  maxComputeInvocationsPerWorkgroup: 256,
  shaderF16: false,
};

describe("query language", () => {
  const cpu = capabilities({ hardwareConcurrency: 4, runtime: "browser" });
  const gpu = capabilities({ webgpu: GPU, hardwareConcurrency: 2, experts: ["mnist-a", "mnist-b"] });

  it("matches every given field and nothing else", () => {
    expect(peerMatches(cpu, {})).toBe(true);
    expect(peerMatches(gpu, { webgpu: true })).toBe(true);
    expect(peerMatches(cpu, { webgpu: true })).toBe(false);
    expect(peerMatches(cpu, { webgpu: false })).toBe(true);
    expect(peerMatches(cpu, { minCores: 4 })).toBe(true);
    expect(peerMatches(gpu, { minCores: 4 })).toBe(false);
    expect(peerMatches(cpu, { runtime: "browser", wasmSimd: true })).toBe(true);
    expect(peerMatches(cpu, { runtime: "node" })).toBe(false);
    expect(peerMatches(cpu, { minMflops: 451 })).toBe(false);
    expect(peerMatches(gpu, { experts: ["mnist-b", "mnist-a"] })).toBe(true);
    expect(peerMatches(gpu, { experts: ["mnist-a", "cifar"] })).toBe(false);
    expect(peerMatches(cpu, { experts: ["mnist-a"] })).toBe(false);
    expect(peerMatches({ ...cpu, busy: true }, { notBusy: true })).toBe(false);
    expect(peerMatches({ ...cpu, busy: false }, { notBusy: true })).toBe(true);
    expect(peerMatches(cpu, { notBusy: true })).toBe(true);
    expect(peerMatches({ ...cpu, volunteer: false }, { volunteers: true })).toBe(false);
    expect(peerMatches({ ...cpu, volunteer: false }, {})).toBe(true);
    expect(peerMatches(cpu, { volunteers: true })).toBe(true);
  });

  it("keys a filter the same whatever the field and list order", () => {
    expect(filterKey({ webgpu: true, minCores: 2 })).toBe(filterKey({ minCores: 2, webgpu: true }));
    expect(filterKey({ experts: ["b", "a", "a"] })).toBe(filterKey({ experts: ["a", "b"] }));
    expect(filterKey({ minCores: 2 })).not.toBe(filterKey({ minCores: 3 }));
  });

  it("rejects bad queries with invalid_query, the field, and the query's id", () => {
    const bad = (message: Record<string, unknown>) =>
      decodeDirectoryClientFrame(
        JSON.stringify({ v: 2, type: "query", id: "q1", filter: {}, k: 4, ...message }),
      );
    expect(bad({})).toMatchObject({ ok: true });
    expect(bad({ k: 0 })).toMatchObject({ ok: false, code: "invalid_query", id: "q1" });
    expect(bad({ k: MAX_QUERY_K + 1 })).toMatchObject({ ok: false, code: "invalid_query", detail: /^k:/ });
    expect(bad({ filter: { gpu: true } })).toMatchObject({ ok: false, code: "invalid_query", detail: /gpu/ });
    expect(bad({ filter: { minCores: -1 } })).toMatchObject({ ok: false, detail: /minCores/ });
    expect(bad({ filter: { experts: [] } })).toMatchObject({ ok: false, detail: /experts/ });
    const noId = bad({ id: "not an id!" });
    expect(noId).toMatchObject({ ok: false, code: "invalid_query" });
    expect("id" in noId).toBe(false);
    const subscribe = decodeDirectoryClientFrame(
      JSON.stringify({ v: 2, type: "subscribe", id: "s1", watch: { kind: "peers", peerIds: [] } }),
    );
    expect(subscribe).toMatchObject({ ok: false, code: "invalid_query", id: "s1" });
  });
});

let t: TestServer;
const clients: DirectoryClient[] = [];

beforeAll(async () => {
  // Sample of 4: a welcome is bounded well below the swarm sizes used here.
  t = await startTestServer({
    logLevel: "silent",
    directorySampleSize: 4,
    directoryTickMs: 20,
    queryRatePerS: 1,
    queryBurst: 30,
  });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await t.close();
});

async function join(caps: Capabilities = capabilities()): Promise<DirectoryClient> {
  const client = newClient(t.directoryUrl, await newIdentity(), { capabilities: caps });
  clients.push(client);
  await client.connect();
  return client;
}

function idOf(client: DirectoryClient): string {
  return client.self!.peerId;
}

describe("directory queries", () => {
  it("bounds the welcome to the sample and still counts everyone", async () => {
    const first = await Promise.all(Array.from({ length: 10 }, () => join()));
    const late = await join();
    expect(late.peers.length).toBeLessThanOrEqual(4);
    expect(late.totalPeers).toBe(first.length);
  });

  it("answers k random matches, the match count, and makes the asker known to them", async () => {
    const gpus = await Promise.all(Array.from({ length: 6 }, () => join(capabilities({ webgpu: GPU }))));
    await Promise.all(Array.from({ length: 5 }, () => join()));
    const asker = await join(capabilities({ webgpu: GPU }));
    const gpuIds = new Set(gpus.map(idOf));

    const result = await asker.query({ webgpu: true }, 3);
    expect(result.matched).toBe(gpus.length); // the asker itself is never a match
    expect(result.peers).toHaveLength(3);
    for (const peer of result.peers) expect(gpuIds.has(peer.peerId)).toBe(true);
    // Each chosen volunteer hears of the asker, so it admits (or dials) a link from it.
    for (const peer of result.peers) {
      const volunteer = gpus.find((g) => idOf(g) === peer.peerId)!;
      await waitFor(
        () => volunteer.peers.some((p) => p.peerId === idOf(asker)),
        "the volunteer to learn of the asker",
      );
    }
    expect((await asker.query({ webgpu: true, minCores: 64 }, 5)).matched).toBe(0);
    expect(t.server.metrics().queries.answered).toBeGreaterThanOrEqual(2);
  });

  it("a query for volunteers leaves out requester-only peers (volunteer: false)", async () => {
    const volunteers = await Promise.all(Array.from({ length: 3 }, () => join()));
    const requesters = await Promise.all(
      Array.from({ length: 3 }, () => join(capabilities({ volunteer: false }))),
    );
    const asker = await join(capabilities({ volunteer: false }));
    const result = await asker.query({ volunteers: true }, 64);
    const found = new Set(result.peers.map((p) => p.peerId));
    for (const v of volunteers) expect(found.has(idOf(v))).toBe(true);
    for (const r of requesters) expect(found.has(idOf(r))).toBe(false);
    // Without the field, everyone matches: the requesters are still listed as peers.
    const all = new Set((await asker.query({}, 64)).peers.map((p) => p.peerId));
    for (const r of requesters) expect(all.has(idOf(r))).toBe(true);
  });

  it("refuses a bad query with a specific code and keeps the session", async () => {
    const asker = await join();
    const before = t.server.metrics().rejected.messages["invalid_query"] ?? 0;
    // A modified client may send anything: bypass the typed API.
    const error = await asker.query({ gpu: true } as never, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectoryQueryError);
    expect(error).toMatchObject({ code: "invalid_query", message: expect.stringMatching(/gpu/) as unknown });
    expect(t.server.metrics().rejected.messages["invalid_query"]).toBe(before + 1);
    expect(asker.currentStatus).toBe("connected");
    expect((await asker.query({}, 1)).matched).toBeGreaterThanOrEqual(0);
  });

  it("rate limits queries per session and counts the refusals", async () => {
    const asker = await join();
    const before = t.server.metrics().queries.refused;
    // Burst 30 at 1/s: 40 at once must see some refused, whatever the timing.
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () =>
        asker.query({}, 1).then(
          () => "ok",
          (e: DirectoryQueryError) => e.code,
        ),
      ),
    );
    const refused = outcomes.filter((o) => o === "rate_limited").length;
    expect(refused).toBeGreaterThanOrEqual(40 - 30 - 2);
    expect(outcomes.filter((o) => o !== "ok" && o !== "rate_limited")).toEqual([]);
    expect(t.server.metrics().queries.refused - before).toBe(refused);
  });
});

describe("directory subscriptions", () => {
  it("sends a join and a leave to the subscribers it concerns and nobody else", async () => {
    const byFilter = await join();
    const byId = await join();
    const bystander = await join();
    const events = new Map<DirectoryClient, WatchChange[]>();
    for (const c of [byFilter, byId, bystander]) {
      events.set(c, []);
      c.onWatch((change) => events.get(c)!.push(change));
    }
    const gpuIdentity = await newIdentity();
    const filterSub = await byFilter.subscribe({ kind: "filter", filter: { webgpu: true } });
    const idSub = await byId.subscribe({ kind: "peers", peerIds: [gpuIdentity.peerId] });
    expect(idSub.online).toEqual([]);

    // A CPU peer joins first: it matches neither subscription.
    const cpuPeer = await join();
    const gpuPeer = newClient(t.directoryUrl, gpuIdentity, { capabilities: capabilities({ webgpu: GPU }) });
    clients.push(gpuPeer);
    await gpuPeer.connect();
    const joinedIds = (c: DirectoryClient) => events.get(c)!.flatMap((e) => e.joined.map((p) => p.peerId));
    await waitFor(
      () => joinedIds(byFilter).includes(gpuIdentity.peerId),
      "the filter subscriber to hear of it",
    );
    await waitFor(() => joinedIds(byId).includes(gpuIdentity.peerId), "the id subscriber to hear of it");
    expect(events.get(byFilter)!.every((e) => e.id === filterSub.id)).toBe(true);
    expect(joinedIds(byFilter)).not.toContain(idOf(cpuPeer));
    expect(joinedIds(byId)).toEqual([gpuIdentity.peerId]);

    gpuPeer.close();
    const leftIds = (c: DirectoryClient) => events.get(c)!.flatMap((e) => e.left);
    await waitFor(
      () => leftIds(byFilter).includes(gpuIdentity.peerId),
      "the leave to reach the filter subscriber",
    );
    await waitFor(() => leftIds(byId).includes(gpuIdentity.peerId), "the leave to reach the id subscriber");
    // Anything for the bystander was flushed with the frames above; a query answer comes after it on its socket.
    await bystander.query({}, 1);
    expect(events.get(bystander)).toEqual([]);
  });

  it("a capability change moves a peer into and out of a filter's set", async () => {
    const watcher = await join();
    const changes: WatchChange[] = [];
    watcher.onWatch((change) => changes.push(change));
    await watcher.subscribe({ kind: "filter", filter: { notBusy: true, minCores: 8 } });
    const volunteer = await join(capabilities({ hardwareConcurrency: 8, busy: true }));
    const id = idOf(volunteer);
    volunteer.updateCapabilities(capabilities({ hardwareConcurrency: 8, busy: false }));
    await waitFor(() => changes.some((c) => c.joined.some((p) => p.peerId === id)), "it to start matching");
    expect(changes.flatMap((c) => c.left)).not.toContain(id);
  });

  it("bounds subscriptions per peer, and unsubscribing an unknown id is refused", async () => {
    const peer = await join();
    const subs = [];
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_PEER; i++) {
      subs.push(await peer.subscribe({ kind: "filter", filter: { minCores: i + 1 } }));
    }
    const error = await peer
      .subscribe({ kind: "filter", filter: { minCores: 100 } })
      .catch((e: unknown) => e as DirectoryQueryError);
    expect(error).toMatchObject({ code: "too_many_subscriptions" });
    peer.unsubscribe(subs[0]!.id);
    await waitFor(
      () => t.server.metrics().subscriptions === MAX_SUBSCRIPTIONS_PER_PEER - 1,
      "the unsubscribe",
    );
    await expect(peer.subscribe({ kind: "filter", filter: { minCores: 100 } })).resolves.toMatchObject({});
    peer.close();
    await waitFor(() => t.server.metrics().subscriptions === 0, "subscriptions to end with the session");
  });
});
