import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMPTY_WASM, startTestServer, type TestServer } from "./helpers.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    iceServers: [
      { urls: "stun:stun.test.invalid:3478" },
      { urls: "turn:turn.test.invalid:3478", username: "u", credential: "c" },
    ],
  });
});
afterAll(async () => {
  await t.close();
});

function expectIsolated(res: Response): void {
  expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
  expect(res.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
  expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
}

describe("HTTP", () => {
  it("reports health with peer count, uptime and version", async () => {
    const res = await fetch(`${t.baseUrl}/api/v1/health`);
    expect(res.status).toBe(200);
    expectIsolated(res);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "ok", peers: 0 });
    expect(typeof body["uptimeS"]).toBe("number");
    expect(body["version"]).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("serves index.html at / with cross-origin isolation headers", async () => {
    const res = await fetch(`${t.baseUrl}/`);
    expect(res.status).toBe(200);
    expectIsolated(res);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("Open-Swarm test");
  });

  it("serves .wasm as application/wasm and .mjs as JavaScript, isolated and cacheable", async () => {
    const wasm = await fetch(`${t.baseUrl}/assets/kernels-abc123.wasm`);
    expect(wasm.status).toBe(200);
    expectIsolated(wasm);
    expect(wasm.headers.get("content-type")).toBe("application/wasm");
    expect(wasm.headers.get("cache-control")).toContain("immutable");
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(EMPTY_WASM);

    const mjs = await fetch(`${t.baseUrl}/assets/worker-abc123.mjs`);
    expect(mjs.status).toBe(200);
    expect(mjs.headers.get("content-type")).toMatch(/^text\/javascript/);
  });

  it("falls back to index.html for client-side routes but not for missing files", async () => {
    const route = await fetch(`${t.baseUrl}/jobs/42`);
    expect(route.status).toBe(200);
    expectIsolated(route);
    expect(await route.text()).toContain("Open-Swarm test");

    const missing = await fetch(`${t.baseUrl}/assets/missing.js`);
    expect(missing.status).toBe(404);
    expectIsolated(missing);
  });

  it("answers unknown API paths with JSON 404, not the app", async () => {
    const res = await fetch(`${t.baseUrl}/api/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found", path: "/v1/nope" });
  });

  it("gives anyone the public ICE servers, never a TURN credential", async () => {
    const res = await fetch(`${t.baseUrl}/api/v1/config`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ iceServers: [{ urls: "stun:stun.test.invalid:3478" }] });
  });

  it("exposes metrics counters", async () => {
    const res = await fetch(`${t.baseUrl}/api/v1/metrics`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      peers: 0,
      joins: 0,
      leaves: 0,
      rejected: { upgrades: {}, messages: {}, peerjs: {}, http: {} },
      messages: { in: {}, out: {}, peerjsIn: {} },
    });
  });

  it("sends isolation headers on PeerJS HTTP routes too", async () => {
    const res = await fetch(`${t.baseUrl}/peerjs`);
    expect(res.status).toBe(200);
    expectIsolated(res);
  });
});
