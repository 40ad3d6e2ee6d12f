import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import {
  newClient,
  newIdentity,
  RawSocket,
  registerRawPeerJs,
  startTestServer,
  tryUpgrade,
  waitFor,
  type TestServer,
} from "./helpers.ts";

let t: TestServer;
const clients: DirectoryClient[] = [];
const raws: RawSocket[] = [];

beforeAll(async () => {
  t = await startTestServer();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const r of raws.splice(0)) r.ws.terminate();
});
afterAll(async () => {
  await t.close();
});

function peerJsUrl(params: Record<string, string>): string {
  const url = new URL("/peerjs/peerjs", t.baseUrl.replace(/^http/, "ws"));
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

async function joined(): Promise<DirectoryClient> {
  const client = newClient(t.directoryUrl, await newIdentity());
  clients.push(client);
  await client.connect();
  return client;
}

async function registerPeerJs(client: DirectoryClient): Promise<RawSocket> {
  const raw = await registerRawPeerJs(t.baseUrl, client);
  raws.push(raw);
  return raw;
}

describe("PeerJS registration is bound to the directory session", () => {
  it("refuses an id that has no directory session", async () => {
    const stranger = await newIdentity();
    expect(await tryUpgrade(peerJsUrl({ key: "peerjs", id: stranger.peerId, token: "whatever-token" }))).toBe(
      401,
    );
    expect(t.server.metrics().rejected.upgrades["peerjs_no_session"]).toBe(1);
    expect(t.logs.some((l) => l["event"] === "upgrade_rejected" && l["reason"] === "peerjs_no_session")).toBe(
      true,
    );
  });

  it("accepts a joined peer's id with its session token (PeerJS answers OPEN)", async () => {
    const alice = await joined();
    await registerPeerJs(alice);
    expect(t.server.metrics().upgradesAccepted.peerjs).toBeGreaterThanOrEqual(1);
  });

  it("refuses a joined peer's id with someone else's token, and missing parameters", async () => {
    const alice = await joined();
    const mallory = await joined();
    const url = peerJsUrl({ key: "peerjs", id: alice.self!.peerId, token: mallory.sessionToken! });
    expect(await tryUpgrade(url)).toBe(401);
    expect(t.server.metrics().rejected.upgrades["peerjs_bad_token"]).toBe(1);
    expect(await tryUpgrade(peerJsUrl({ key: "peerjs", id: alice.self!.peerId }))).toBe(400);
    expect(
      await tryUpgrade(peerJsUrl({ key: "other", id: alice.self!.peerId, token: alice.sessionToken! })),
    ).toBe(400);
  });

  it("relays signaling with the server-decided sender, and survives garbage frames", async () => {
    const alice = await joined();
    const bob = await joined();
    const aliceWs = await registerPeerJs(alice);
    const bobWs = await registerPeerJs(bob);

    aliceWs.send("this is not JSON");
    aliceWs.send({ type: "OFFER", src: "os-forged-sender", dst: bob.self!.peerId, payload: { sdp: "v=0" } });
    const offer = await bobWs.waitForType("OFFER");
    expect(offer["src"]).toBe(alice.self!.peerId);
    // The relay guard drops the non-JSON frame and counts it; the `peer` package never sees it.
    expect(t.server.metrics().rejected.peerjs["peerjs_malformed_json"]).toBe(1);
    expect(t.server.metrics().messages.peerjsIn["OFFER"]).toBeGreaterThanOrEqual(1);
    const res = await fetch(`${t.baseUrl}/api/v1/health`);
    expect(res.status).toBe(200);
  });

  it("ends the PeerJS registration with the directory session, and lets the next session register", async () => {
    const identity = await newIdentity();
    const first = newClient(t.directoryUrl, identity);
    clients.push(first);
    await first.connect();
    const peerWs = await registerPeerJs(first);
    first.close();
    await peerWs.waitForClose();

    const second = newClient(t.directoryUrl, identity);
    clients.push(second);
    await second.connect();
    // The old token died with the old session.
    const stale = peerJsUrl({ key: "peerjs", id: identity.peerId, token: "x".repeat(43) });
    expect(await tryUpgrade(stale)).toBe(401);
    await waitFor(() => t.server.metrics().peerjsConnections === 0, "old PeerJS socket gone");
    await registerPeerJs(second);
  });

  it("has exactly one 'upgrade' listener on the HTTP server, routing to both channels", async () => {
    // Both ws servers are noServer: a second listener would answer (or destroy) the other's sockets.
    expect(t.server.httpServer.listenerCount("upgrade")).toBe(1);
    const alice = await joined();
    await registerPeerJs(alice);
    const dir = new RawSocket(t.directoryUrl);
    raws.push(dir);
    await dir.waitForType("challenge");
  });
});
