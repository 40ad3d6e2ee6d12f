import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import {
  capabilities,
  newClient,
  newIdentity,
  RawSocket,
  startTestServer,
  waitFor,
  type TestServer,
} from "./helpers.ts";
import { joinChallengeBytes } from "../../../src/core/protocol/directory.ts";
import { toBase64Url } from "../../../src/core/base/encoding.ts";

let t: TestServer;
const clients: DirectoryClient[] = [];
const raws: RawSocket[] = [];

beforeAll(async () => {
  // A short heartbeat so the dead-socket test runs in well under a second of waiting.
  t = await startTestServer({ heartbeatIntervalMs: 150 });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const r of raws.splice(0)) r.ws.terminate();
});
afterAll(async () => {
  await t.close();
});

function track(client: DirectoryClient): DirectoryClient {
  clients.push(client);
  return client;
}

describe("directory", () => {
  it("two peers join, see each other, and a leave is pushed", async () => {
    const alice = track(newClient(t.directoryUrl, await newIdentity()));
    const bob = track(newClient(t.directoryUrl, await newIdentity()));
    const statuses: string[] = [];
    alice.onStatus((s) => statuses.push(s));

    await alice.connect();
    expect(alice.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(alice.peers).toEqual([]);
    expect(statuses).toEqual(["connecting", "connected"]);

    await bob.connect();
    expect(bob.peers.map((p) => p.peerId)).toEqual([alice.self?.peerId]);
    await waitFor(() => alice.peers.length === 1, "alice to see bob");
    expect(alice.peers[0]).toMatchObject({ peerId: bob.self?.peerId, capabilities: capabilities() });
    expect(alice.sessionToken).not.toBe(bob.sessionToken);

    const health = (await (await fetch(`${t.baseUrl}/api/v1/health`)).json()) as { peers: number };
    expect(health.peers).toBe(2);

    bob.close();
    await waitFor(() => alice.peers.length === 0, "bob's leave to reach alice");
    expect(alice.stats.received).toBeGreaterThanOrEqual(4); // challenge, welcome, peers-changed (join, leave)
    expect(alice.stats.sent).toBeGreaterThanOrEqual(1);

    const metrics = t.server.metrics();
    expect(metrics.joins).toBeGreaterThanOrEqual(2);
    expect(metrics.leaves).toBeGreaterThanOrEqual(1);
    expect(metrics.messages.in["join"]).toBeGreaterThanOrEqual(2);
    expect(metrics.messages.out["peers-changed"]).toBeGreaterThanOrEqual(2);
    expect(t.logs.some((l) => l["event"] === "join" && l["peerId"] === bob.self?.peerId)).toBe(true);
  });

  it("pushes capability updates to the others", async () => {
    const alice = track(newClient(t.directoryUrl, await newIdentity()));
    const bob = track(newClient(t.directoryUrl, await newIdentity()));
    await alice.connect();
    await bob.connect();
    bob.updateCapabilities(capabilities({ benchmarkMflops: 1234 }));
    await waitFor(
      () => alice.peers.find((p) => p.peerId === bob.self?.peerId)?.capabilities.benchmarkMflops === 1234,
      "alice to see bob's new capabilities",
    );
  });

  it("drops a socket that stops answering pings, and tells the others", async () => {
    const watcher = track(newClient(t.directoryUrl, await newIdentity()));
    await watcher.connect();

    // A peer whose tab freezes: it joins properly and answers pings until the watcher has seen it (so the
    // join and the removal cannot fall into one batch), then stops reading its socket.
    const identity = await newIdentity();
    const zombie = new RawSocket(t.directoryUrl);
    raws.push(zombie);
    const challenge = await zombie.waitForType("challenge");
    const signature = await identity.sign(joinChallengeBytes(String(challenge["nonce"])));
    zombie.send({
      v: 2,
      type: "join",
      peerId: identity.peerId,
      publicKey: identity.publicKey,
      capabilities: capabilities(),
      signature: toBase64Url(signature),
    });
    await zombie.waitForType("welcome");
    await waitFor(() => watcher.peers.some((p) => p.peerId === identity.peerId), "watcher to see the zombie");

    const before = t.server.metrics().heartbeatTimeouts;
    zombie.freeze();
    // Two heartbeat intervals (300 ms) plus a 100 ms batch; the bound leaves room for a loaded machine.
    await waitFor(() => !watcher.peers.some((p) => p.peerId === identity.peerId), "zombie removal", 10_000);
    // Removed by the heartbeat, not by a close: the socket itself is still open on the zombie's side.
    expect(t.server.metrics().heartbeatTimeouts).toBe(before + 1);
  });

  it("lets the same key re-prove and replaces the old session, which does not reconnect", async () => {
    const identity = await newIdentity();
    const watcher = track(newClient(t.directoryUrl, await newIdentity()));
    await watcher.connect();
    const first = track(newClient(t.directoryUrl, identity, { reconnect: true }));
    await first.connect();
    const firstToken = first.sessionToken;
    const firstStatuses: string[] = [];
    first.onStatus((s) => firstStatuses.push(s));

    const second = track(newClient(t.directoryUrl, identity));
    await second.connect();
    expect(second.sessionToken).not.toBe(firstToken);
    await waitFor(() => first.currentStatus === "disconnected", "the first session to be replaced");
    // Give a would-be reconnect time to happen: it must not, or two tabs would take turns forever.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(firstStatuses).toEqual(["disconnected"]);
    await expect(first.connect()).rejects.toMatchObject({ code: "session_replaced" });

    const online = watcher.peers.filter((p) => p.peerId === identity.peerId);
    expect(online).toHaveLength(1);
    expect(t.server.metrics().sessionsReplaced).toBeGreaterThanOrEqual(1);
  });

  it("reconnects with a new session after the server drops the connection", async () => {
    const identity = await newIdentity();
    const client = track(
      newClient(t.directoryUrl, identity, {
        reconnect: true,
        reconnectMinDelayMs: 50,
        reconnectMaxDelayMs: 200,
      }),
    );
    await client.connect();
    const firstToken = client.sessionToken;
    // Fault injection: reach into the client's socket and send garbage until the server closes it (4400,
    // a close code after which reconnecting is allowed).
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    const raw = (client as unknown as { socket: { send(text: string): void } }).socket;
    for (let i = 0; i < 20; i++) raw.send("not json");
    await waitFor(() => statuses.includes("connected"), "reconnect");
    expect(statuses).toEqual(["disconnected", "connecting", "connected"]);
    expect(client.sessionToken).not.toBe(firstToken);
    expect(t.server.metrics().rejected.messages["malformed_json"]).toBeGreaterThanOrEqual(20);
  });
});
