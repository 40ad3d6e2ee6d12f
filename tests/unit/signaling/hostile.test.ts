import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { toBase64Url } from "../../../src/core/base/encoding.ts";
import { DIRECTORY_CLOSE_CODES, joinChallengeBytes } from "../../../src/core/protocol/directory.ts";
import {
  capabilities,
  newClient,
  newIdentity,
  RawSocket,
  startTestServer,
  tryUpgrade,
  waitFor,
  type TestServer,
} from "./helpers.ts";

let t: TestServer;
const raws: RawSocket[] = [];
const MAX_PAYLOAD_BYTES = 32 * 1024;

beforeAll(async () => {
  t = await startTestServer({ maxPayloadBytes: MAX_PAYLOAD_BYTES });
});
afterEach(() => {
  for (const r of raws.splice(0)) r.ws.terminate();
});
afterAll(async () => {
  await t.close();
});

async function openRaw(): Promise<RawSocket> {
  const raw = new RawSocket(t.directoryUrl);
  raws.push(raw);
  await raw.opened;
  await raw.waitForType("challenge");
  return raw;
}

async function healthy(): Promise<void> {
  const res = await fetch(`${t.baseUrl}/api/v1/health`);
  expect(res.status).toBe(200);
}

describe("hostile directory input", () => {
  it("answers malformed JSON, unknown types and wrong shapes with specific codes and stays up", async () => {
    const raw = await openRaw();
    raw.send("{not json");
    raw.send({ v: 2, type: "teleport" });
    raw.send({ v: 2, type: "join", peerId: 42 });
    raw.send([1, 2, 3]);
    raw.send({ v: 1, type: "ping" }); // an older client's version
    raw.send({ v: 2, type: "update-capabilities", capabilities: capabilities() });
    raw.send(
      '{"v":2,"type":"ping","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    );
    raw.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await raw.waitForType("error", 6);
    await raw.waitForType("pong");
    const codes = raw.messages.filter((m) => m["type"] === "error").map((m) => m["code"]);
    expect(codes).toEqual([
      "malformed_json",
      "unknown_type",
      "invalid_message",
      "invalid_message",
      "invalid_message",
      "not_joined",
      "invalid_message",
    ]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(raw.closeCode).toBeNull();
    const metrics = t.server.metrics();
    expect(metrics.rejected.messages["malformed_json"]).toBeGreaterThanOrEqual(1);
    expect(metrics.rejected.messages["unknown_type"]).toBeGreaterThanOrEqual(1);
    expect(t.logs.some((l) => l["event"] === "directory_rejected" && l["code"] === "unknown_type")).toBe(
      true,
    );
    await healthy();
  });

  it("closes a socket after too many invalid messages", async () => {
    const raw = await openRaw();
    for (let i = 0; i < 25; i++) raw.send("garbage");
    expect(await raw.waitForClose()).toBe(DIRECTORY_CLOSE_CODES.tooManyInvalid);
    await healthy();
  });

  it("rejects frames over the protocol limit, and closes on frames over maxPayload", async () => {
    const raw = await openRaw();
    raw.send({ v: 2, type: "ping", pad: "x".repeat(10_000) });
    expect((await raw.waitForType("error"))["code"]).toBe("too_large");
    expect(raw.closeCode).toBeNull();

    raw.send("x".repeat(MAX_PAYLOAD_BYTES + 1));
    expect(await raw.waitForClose()).toBe(1009);
    await waitFor(
      () => (t.server.metrics().rejected.messages["too_large"] ?? 0) >= 2,
      "too_large counted twice",
    );
    await healthy();
  });

  it("rejects a join with a forged signature (bad_signature) and closes", async () => {
    const victim = await newIdentity();
    const raw = await openRaw();
    raw.send({
      v: 2,
      type: "join",
      peerId: victim.peerId,
      publicKey: victim.publicKey,
      capabilities: capabilities(),
      signature: toBase64Url(new Uint8Array(64).fill(7)),
    });
    expect((await raw.waitForType("error"))["code"]).toBe("bad_signature");
    expect(await raw.waitForClose()).toBe(DIRECTORY_CLOSE_CODES.authFailed);
    expect(raw.messages.some((m) => m["type"] === "welcome")).toBe(false);
  });

  it("rejects a signature over someone else's nonce (no replay)", async () => {
    const identity = await newIdentity();
    const raw = await openRaw();
    const signature = await identity.sign(joinChallengeBytes("a-nonce-from-another-connection"));
    raw.send({
      v: 2,
      type: "join",
      peerId: identity.peerId,
      publicKey: identity.publicKey,
      capabilities: capabilities(),
      signature: toBase64Url(signature),
    });
    expect((await raw.waitForType("error"))["code"]).toBe("bad_signature");
  });

  it("rejects a join whose peerId is not derived from the key (id_mismatch)", async () => {
    const attacker = await newIdentity();
    const victim = await newIdentity();
    const raw = await openRaw();
    const challenge = raw.messages[0]!;
    const signature = await attacker.sign(joinChallengeBytes(String(challenge["nonce"])));
    raw.send({
      v: 2,
      type: "join",
      peerId: victim.peerId,
      publicKey: attacker.publicKey,
      capabilities: capabilities(),
      signature: toBase64Url(signature),
    });
    expect((await raw.waitForType("error"))["code"]).toBe("id_mismatch");
    expect(await raw.waitForClose()).toBe(DIRECTORY_CLOSE_CODES.authFailed);
    expect(t.server.metrics().rejected.messages["id_mismatch"]).toBe(1);
  });

  it("rejects a join with out-of-range capabilities and keeps the connection for a correct one", async () => {
    const identity = await newIdentity();
    const raw = await openRaw();
    const signature = toBase64Url(await identity.sign(joinChallengeBytes(String(raw.messages[0]!["nonce"]))));
    const join = { v: 2, type: "join", peerId: identity.peerId, publicKey: identity.publicKey, signature };
    raw.send({ ...join, capabilities: capabilities({ hardwareConcurrency: 1e9 }) });
    expect((await raw.waitForType("error"))["code"]).toBe("invalid_message");
    raw.send({ ...join, capabilities: capabilities() });
    await raw.waitForType("welcome");
    raw.send({ ...join, capabilities: capabilities() });
    expect((await raw.waitForType("error", 1))["code"]).toBe("already_joined");
  });

  it("closes a connection that never joins", async () => {
    const quick = await startTestServer({ joinTimeoutMs: 100 });
    try {
      const raw = new RawSocket(quick.directoryUrl);
      raws.push(raw);
      await raw.waitForType("challenge");
      expect(await raw.waitForClose()).toBe(DIRECTORY_CLOSE_CODES.joinTimeout);
      expect((await raw.waitForType("error"))["code"]).toBe("join_timeout");
      expect(quick.server.metrics().rejected.messages["join_timeout"]).toBe(1);
    } finally {
      await quick.close();
    }
  });

  it("answers a broken WebSocket handshake with 400 and counts it", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${t.baseUrl}/api/v1/directory`, {
        headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13" },
      });
      req.on("response", (res) => resolve(res.statusCode ?? 0));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(t.server.metrics().rejected.upgrades["bad_handshake"]).toBe(1);
    await healthy();
  });

  it("refuses unknown WebSocket paths with 404", async () => {
    expect(await tryUpgrade(`${t.directoryUrl.replace("/api/v1/directory", "/elsewhere")}`)).toBe(404);
  });
});

describe("connection flood from one address", () => {
  let flood: TestServer;
  beforeAll(async () => {
    // Default limits: 64 concurrent connections, 20 upgrades/s with a burst of 40, per address.
    flood = await startTestServer();
  });
  afterAll(async () => {
    await flood.close();
  });

  it("refuses most of 500 simultaneous connections, stays up, and admits a legitimate peer after", async () => {
    const held: WebSocket[] = [];
    const results = await Promise.all(
      Array.from({ length: 500 }, () => tryUpgrade(flood.directoryUrl, held)),
    );
    const opened = results.filter((r) => r === "open").length;
    const refused429 = results.filter((r) => r === 429).length;
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThanOrEqual(64);
    expect(refused429).toBe(500 - opened);

    const metrics = flood.server.metrics();
    const rejected = metrics.rejected.upgrades;
    expect((rejected["rate_limited"] ?? 0) + (rejected["too_many_connections"] ?? 0)).toBe(refused429);
    const res = await fetch(`${flood.baseUrl}/api/v1/metrics`);
    expect(((await res.json()) as typeof metrics).rejected.upgrades).toEqual(rejected);
    // Logged, but throttled: a flood must not flood the log.
    const lines = flood.logs.filter((l) => l["event"] === "upgrade_rejected");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(40);

    // The attacker lets go; the bucket refills at 20/s: a real peer gets in shortly after.
    for (const ws of held) ws.terminate();
    await waitFor(() => flood.server.metrics().directoryConnections === 0, "held connections to close");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const client = newClient(flood.directoryUrl, await newIdentity());
    await client.connect();
    expect(client.sessionToken).not.toBeNull();
    client.close();
  });

  it("caps concurrent connections per address even when they arrive slowly", async () => {
    const server = await startTestServer({
      maxConnectionsPerIp: 3,
      upgradeRatePerS: 1000,
      upgradeBurst: 1000,
    });
    try {
      const sockets = [
        new RawSocket(server.directoryUrl),
        new RawSocket(server.directoryUrl),
        new RawSocket(server.directoryUrl),
      ];
      await Promise.all(sockets.map((s) => s.opened));
      expect(await tryUpgrade(server.directoryUrl)).toBe(429);
      expect(server.server.metrics().rejected.upgrades["too_many_connections"]).toBe(1);
      sockets[0]!.ws.close();
      await sockets[0]!.waitForClose();
      await waitFor(() => server.server.metrics().directoryConnections === 2, "slot released");
      expect(await tryUpgrade(server.directoryUrl)).toBe("open");
      for (const s of sockets) s.ws.terminate();
    } finally {
      await server.close();
    }
  });
});
