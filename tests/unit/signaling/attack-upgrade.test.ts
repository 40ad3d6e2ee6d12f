import type { IncomingMessage } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { addressKey, clientAddress, isLoopback } from "../../../signaling/limits/client-address.ts";
import {
  newClient,
  newIdentity,
  registerRawPeerJs,
  startTestServer,
  type RawSocket,
  type TestServer,
} from "./helpers.ts";

// Attack tests for issue 10 items 2 and 4: registration hijack by parameter pollution, spoofed
// X-Forwarded-For, and one IPv6 /64 posing as many addresses.
const clients: DirectoryClient[] = [];
const raws: RawSocket[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const r of raws.splice(0)) r.ws.terminate();
});

async function joined(t: TestServer): Promise<DirectoryClient> {
  const client = newClient(t.directoryUrl, await newIdentity());
  clients.push(client);
  await client.connect();
  return client;
}

function peerJsUrl(t: TestServer, query: string): string {
  return `${t.baseUrl.replace(/^http/, "ws")}/peerjs/peerjs?${query}`;
}

async function registerPeerJs(t: TestServer, client: DirectoryClient): Promise<RawSocket> {
  const raw = await registerRawPeerJs(t.baseUrl, client);
  raws.push(raw);
  return raw;
}

/** Opens a WebSocket with extra headers; the HTTP status it was refused with, or "open" (then closed). */
function upgradeWith(url: string, headers: Record<string, string>): Promise<number | "open" | "error"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => {
      resolve("open");
      ws.terminate();
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on("error", () => resolve("error"));
  });
}

describe("PeerJS registration hijack by parameter pollution", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("refuses a repeated id/token/key, counts it, and the victim keeps its registration and its offers", async () => {
    const victim = await joined(t);
    const attacker = await joined(t);
    const dialer = await joined(t);
    const victimWs = await registerPeerJs(t, victim);
    const a = attacker.self!.peerId;
    const ta = attacker.sessionToken!;
    const v = victim.self!.peerId;
    const polluted = [
      `key=peerjs&id=${a}&token=${ta}&id=${v}&token=x`,
      `key=peerjs&id=${a}&token=${ta}&id=${v}`,
      `key=peerjs&id=${a}&token=${ta}&token=${ta}`,
      `key=peerjs&key=other&id=${a}&token=${ta}`,
    ];
    for (const query of polluted) expect(await upgradeWith(peerJsUrl(t, query), {})).toBe(400);
    expect(t.server.metrics().rejected.upgrades["peerjs_repeated_param"]).toBe(polluted.length);

    // The victim was never told ID-TAKEN, its socket is open, and offers for it reach it, not the attacker.
    const dialerWs = await registerPeerJs(t, dialer);
    dialerWs.send({ type: "OFFER", dst: v, payload: { sdp: "v=0", type: "data", connectionId: "dc_1" } });
    const offer = await victimWs.waitForType("OFFER");
    expect(offer["src"]).toBe(dialer.self!.peerId);
    expect(victimWs.messages.some((m) => m["type"] === "ID-TAKEN")).toBe(false);
    expect(victimWs.closeCode).toBeNull();
    // The attacker can still register as itself (one clean set of parameters).
    await registerPeerJs(t, attacker);
  });
});

describe("per-address limits behind a trusted proxy", () => {
  let t: TestServer;
  const BURST = 3;
  beforeAll(async () => {
    // Nearly no refill: the burst is all an address gets during the test.
    t = await startTestServer({ trustProxy: true, upgradeBurst: BURST, upgradeRatePerS: 0.001 });
  });
  afterAll(async () => {
    await t.close();
  });

  it("counts the rightmost (proxy-added) X-Forwarded-For entry: a spoofed leftmost one does not bypass the limit", async () => {
    const results: (number | "open" | "error")[] = [];
    for (let i = 0; i < BURST + 3; i++) {
      // What a client sends through the proxy: its own made-up entry, then the proxy appends the real one.
      results.push(await upgradeWith(t.directoryUrl, { "X-Forwarded-For": `198.51.100.${i}, 203.0.113.7` }));
    }
    expect(results).toEqual([...Array<string>(BURST).fill("open"), 429, 429, 429]);
    // Yet another made-up leftmost entry changes nothing.
    expect(await upgradeWith(t.directoryUrl, { "X-Forwarded-For": "198.51.100.99, 203.0.113.7" })).toBe(429);
    // Another real client behind the same proxy is its own address.
    expect(await upgradeWith(t.directoryUrl, { "X-Forwarded-For": "203.0.113.7, 203.0.113.8" })).toBe("open");
    expect(t.server.metrics().rejected.upgrades["rate_limited"]).toBe(4);
  });

  it("counts a whole IPv6 /64 as one address, and another /64 separately", async () => {
    const inOne64 = [
      "2001:db8:1:2::a",
      "2001:db8:1:2:ffff::b",
      "2001:0db8:0001:0002:1:2:3:4",
      "2001:db8:1:2::c",
    ];
    const results = [];
    for (const address of inOne64)
      results.push(await upgradeWith(t.directoryUrl, { "X-Forwarded-For": address }));
    expect(results).toEqual(["open", "open", "open", 429]);
    expect(await upgradeWith(t.directoryUrl, { "X-Forwarded-For": "2001:db8:1:3::a" })).toBe("open");
  });

  it("still serves a legitimate peer after the spoofing attempts", async () => {
    const client = newClient(t.directoryUrl, await newIdentity(), {
      WebSocketImpl: class extends WebSocket {
        constructor(url: string | URL) {
          super(url, { headers: { "X-Forwarded-For": "192.0.2.10" } });
        }
      } as unknown as typeof WebSocket,
    });
    clients.push(client);
    await client.connect();
    expect(client.self?.peerId).toMatch(/^os/);
  });
});

describe("client address and limit key", () => {
  const req = (remoteAddress: string, xff?: string | string[]): IncomingMessage =>
    ({
      socket: { remoteAddress },
      headers: xff === undefined ? {} : { "x-forwarded-for": xff },
    }) as IncomingMessage;

  it("takes the rightmost X-Forwarded-For only when trusting the proxy, and ignores a non-address", () => {
    expect(clientAddress(req("10.0.0.1", "1.1.1.1, 2.2.2.2"), true)).toBe("2.2.2.2");
    expect(clientAddress(req("10.0.0.1", ["1.1.1.1", "3.3.3.3"]), true)).toBe("3.3.3.3");
    expect(clientAddress(req("10.0.0.1", "1.1.1.1, 2.2.2.2"), false)).toBe("10.0.0.1");
    expect(clientAddress(req("10.0.0.1", "1.1.1.1, not-an-ip"), true)).toBe("10.0.0.1");
    expect(clientAddress(req("::ffff:10.0.0.1"), false)).toBe("10.0.0.1");
  });

  it("keys IPv6 by /64 and IPv4 by address; knows loopback", () => {
    expect(addressKey("2001:db8:1:2::a")).toBe(addressKey("2001:0db8:1:2:ffff:ffff:ffff:ffff"));
    expect(addressKey("2001:db8:1:2::a")).not.toBe(addressKey("2001:db8:1:3::a"));
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("0:0:0:0:0:0:0:1")).toBe(true);
    expect(isLoopback("10.0.0.1")).toBe(false);
    expect(isLoopback("2001:db8::1")).toBe(false);
  });
});
