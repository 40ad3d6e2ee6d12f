import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { fetchServerConfig } from "../../../src/core/net/server-config.ts";
import { CONTENT_SECURITY_POLICY } from "../../../signaling/http-security.ts";
import { newClient, newIdentity, startTestServer, waitFor, type TestServer } from "./helpers.ts";

// Attack tests for issue 10 item 4 (HTTP side): TURN credentials only for joined peers, security headers
// on every response, no echoed Origin, metrics only for this machine or the operator's token.
const TURN_SECRET = "test-turn-secret-0123456789";
const METRICS_TOKEN = "test-metrics-token-0123456789";
const TTL_S = 600;
let t: TestServer;
const clients: DirectoryClient[] = [];

beforeAll(async () => {
  t = await startTestServer({
    trustProxy: true,
    iceServers: [
      { urls: "stun:stun.test.invalid:3478" },
      { urls: "turn:static.test.invalid", username: "u", credential: "c" },
    ],
    turnUrls: ["turn:turn.test.invalid:3478?transport=udp", "turns:turn.test.invalid:5349"],
    turnSecret: TURN_SECRET,
    turnTtlS: TTL_S,
    metricsToken: METRICS_TOKEN,
  });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await t.close();
});

async function joined(): Promise<DirectoryClient> {
  const client = newClient(t.directoryUrl, await newIdentity());
  clients.push(client);
  await client.connect();
  return client;
}

function config(authorization?: string): Promise<Response> {
  return fetch(
    `${t.baseUrl}/api/v1/config`,
    authorization ? { headers: { Authorization: authorization } } : {},
  );
}

interface Ice {
  urls: string | string[];
  username?: string;
  credential?: string;
}

describe("TURN credentials", () => {
  it("gives anyone STUN only", async () => {
    const res = await config();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ iceServers: [{ urls: "stun:stun.test.invalid:3478" }] });
  });

  it("mints short-lived REST API credentials for a joined peer, which verify against the secret", async () => {
    const alice = await joined();
    const peerId = alice.self!.peerId;
    const beforeS = Math.floor(Date.now() / 1000);
    // Through the client's own code path (the app's startSwarm uses it after the join).
    const { iceServers } = await fetchServerConfig(t.baseUrl, (url, init) => fetch(url, init), {
      peerId,
      sessionToken: alice.sessionToken!,
    });
    const afterS = Math.ceil(Date.now() / 1000);
    const minted = (iceServers as Ice[]).find(
      (s) => Array.isArray(s.urls) && s.urls[0]!.startsWith("turn:"),
    )!;
    expect(minted.urls).toEqual([
      "turn:turn.test.invalid:3478?transport=udp",
      "turns:turn.test.invalid:5349",
    ]);
    const [expiry, user] = minted.username!.split(":");
    expect(user).toBe(peerId);
    // Expires TTL_S from now: a TURN server refuses it after that.
    expect(Number(expiry)).toBeGreaterThanOrEqual(beforeS + TTL_S);
    expect(Number(expiry)).toBeLessThanOrEqual(afterS + TTL_S);
    const expected = createHmac("sha1", TURN_SECRET).update(minted.username!).digest("base64");
    expect(minted.credential).toBe(expected);
    // A credential for one peer does not verify for another id, nor with another secret.
    expect(createHmac("sha1", TURN_SECRET).update(`${expiry}:osother`).digest("base64")).not.toBe(
      minted.credential,
    );
    expect(createHmac("sha1", "wrong-secret").update(minted.username!).digest("base64")).not.toBe(
      minted.credential,
    );
    // The operator's static TURN entry is also for joined peers only.
    expect(iceServers).toContainEqual({ urls: "turn:static.test.invalid", username: "u", credential: "c" });
  });

  it("refuses a wrong, borrowed or ended session, and counts it", async () => {
    const alice = await joined();
    const mallory = await joined();
    const before = t.server.metrics().rejected.http["config_bad_session"] ?? 0;
    const attempts = [
      `Bearer ${alice.self!.peerId}.${"x".repeat(43)}`,
      `Bearer ${alice.self!.peerId}.${mallory.sessionToken!}`,
      `Bearer ${mallory.sessionToken!}`,
      `Bearer .${mallory.sessionToken!}`,
    ];
    for (const auth of attempts) expect((await config(auth)).status).toBe(401);
    const ended = `Bearer ${alice.self!.peerId}.${alice.sessionToken!}`;
    expect((await config(ended)).status).toBe(200);
    alice.close();
    await waitFor(() => t.server.metrics().peers === 1, "alice's session to end");
    expect((await config(ended)).status).toBe(401);
    expect((t.server.metrics().rejected.http["config_bad_session"] ?? 0) - before).toBe(attempts.length + 1);
    // The other peer keeps getting its own credentials.
    expect((await config(`Bearer ${mallory.self!.peerId}.${mallory.sessionToken!}`)).status).toBe(200);
  });
});

describe("security headers", () => {
  const paths = [
    "/",
    "/jobs/42",
    "/api/v1/health",
    "/api/v1/nope",
    "/assets/missing.js",
    "/peerjs",
    "/peerjs/peerjs/id",
  ];

  it("sends CSP, nosniff, Referrer-Policy and no X-Powered-By on every response", async () => {
    for (const path of paths) {
      const res = await fetch(`${t.baseUrl}${path}`, { headers: { Origin: "https://evil.example" } });
      await res.arrayBuffer();
      // Express's final 404 replaces ours with the stricter `default-src 'none'` (nothing to load there).
      const csp = res.headers.get("content-security-policy");
      expect(
        csp === CONTENT_SECURITY_POLICY || (res.status === 404 && csp === "default-src 'none'"),
        path,
      ).toBe(true);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(res.headers.get("cross-origin-opener-policy"), path).toBe("same-origin");
      expect(res.headers.get("x-powered-by"), path).toBeNull();
      // No route echoes a foreign Origin (the `peer` package's default CORS did).
      expect(res.headers.get("access-control-allow-origin"), path).toBeNull();
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(CONTENT_SECURITY_POLICY).toContain("worker-src 'self' blob:");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });

  it("answers a CORS preflight on /peerjs without allowing the origin", async () => {
    const res = await fetch(`${t.baseUrl}/peerjs/peerjs/id`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" },
    });
    await res.arrayBuffer();
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CSP violation reports", () => {
  it("counts a report by directive, and refuses a body that is not one", async () => {
    const post = (body: string, type = "application/csp-report"): Promise<Response> =>
      fetch(`${t.baseUrl}/api/v1/csp-report`, { method: "POST", headers: { "Content-Type": type }, body });
    const report = { "csp-report": { "effective-directive": "worker-src", "blocked-uri": "blob" } };
    expect((await post(JSON.stringify(report))).status).toBe(204);
    const made = { "csp-report": { "effective-directive": "made-up-directive-<script>" } };
    expect((await post(JSON.stringify(made))).status).toBe(204);
    expect((await post("[1,2,3]")).status).toBe(400);
    expect((await post("x".repeat(20_000))).status).toBe(413);
    const metrics = t.server.metrics();
    // Keys come from a fixed set: whatever a client writes becomes "other".
    expect(metrics.cspViolations).toEqual({ "worker-src": 1, other: 1 });
    expect(metrics.rejected.http["csp_report_invalid"]).toBe(1);
    expect(metrics.rejected.http["body_too_large"]).toBe(1);
  });
});

describe("metrics access", () => {
  const metrics = (headers: Record<string, string>): Promise<Response> =>
    fetch(`${t.baseUrl}/api/v1/metrics`, { headers });

  it("serves this machine and the operator's token, refuses everyone else and counts it", async () => {
    const before = t.server.metrics().rejected.http["metrics_forbidden"] ?? 0;
    // trustProxy is on: the rightmost X-Forwarded-For entry is the caller.
    expect((await metrics({ "X-Forwarded-For": "127.0.0.1, 203.0.113.9" })).status).toBe(403);
    expect(
      (await metrics({ "X-Forwarded-For": "203.0.113.9", Authorization: "Bearer wrong-token" })).status,
    ).toBe(403);
    expect(
      (await metrics({ "X-Forwarded-For": "203.0.113.9", Authorization: `Bearer ${METRICS_TOKEN}` })).status,
    ).toBe(200);
    expect((await metrics({ "X-Forwarded-For": "203.0.113.9, 127.0.0.1" })).status).toBe(200);
    expect((await metrics({})).status).toBe(200); // loopback, no proxy header
    expect((t.server.metrics().rejected.http["metrics_forbidden"] ?? 0) - before).toBe(2);
    expect((await fetch(`${t.baseUrl}/api/v1/health`)).status).toBe(200);
  });
});
