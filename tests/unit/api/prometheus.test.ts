import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseApiKeys } from "../../../api/keys.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { bearer, call, collectLines, post, refused, startApiServer, tridiagonalRequest } from "./helpers.ts";
import { scrapeMetrics, value, type Scrape } from "./prometheus-text.ts";

// GET /metrics in Prometheus text format: every line parses, every family has HELP and TYPE, a rejection
// this test causes shows up under its reason, a solve shows up in the API's series, and request durations
// are a histogram labelled by route pattern (never the raw URL). GET /api/v1/ready answers 200.
const KEY = "metrics-key-01234567";
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({ keys: parseApiKeys([`${KEY}:submit+read`]) });
});
afterAll(async () => {
  await t.close();
});

const scrape = (): Promise<Scrape> => scrapeMetrics(t.baseUrl);

describe("Prometheus /metrics", () => {
  it("parses, and counts a rejection and a solve this test causes", async () => {
    const before = (await scrape()).samples;
    const invalid = { channel: "http", reason: "api_invalid_api_key" };
    await refused(
      await call(t.baseUrl, "/api/v1/status/abc", bearer("not-a-key-0123456789")),
      401,
      "invalid_api_key",
    );
    const res = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(30), bearer(KEY));
    const lines = await collectLines(res);
    const updates = lines.filter((l) => l["type"] === "iteration_update").length;
    const { samples, types } = await scrape();
    expect(
      value(samples, "open_swarm_rejections_total", invalid) -
        value(before, "open_swarm_rejections_total", invalid),
    ).toBe(1);
    expect(types.get("open_swarm_rejections_total")).toBe("counter");
    const converged = { outcome: "converged" };
    expect(
      value(samples, "open_swarm_api_sessions_ended_total", converged) -
        value(before, "open_swarm_api_sessions_ended_total", converged),
    ).toBe(1);
    expect(
      value(samples, "open_swarm_api_iterations_streamed_total") -
        value(before, "open_swarm_api_iterations_streamed_total"),
    ).toBeGreaterThanOrEqual(updates);
    expect(value(samples, "open_swarm_api_sessions_open")).toBeGreaterThanOrEqual(1);
    expect(value(samples, "open_swarm_peers", { runtime: "browser" })).toBe(0);
    expect(types.get("open_swarm_directory_joins_total")).toBe("counter");
    expect(types.get("open_swarm_process_resident_memory_bytes")).toBe("gauge");
  });

  it("times requests in a histogram by route pattern, not by raw URL", async () => {
    const ids = ["first-unknown-id", "second-unknown-id"];
    for (const id of ids) await call(t.baseUrl, `/api/v1/status/${id}`, bearer(KEY));
    const { samples, types } = await scrape();
    expect(types.get("open_swarm_http_request_duration_seconds")).toBe("histogram");
    const route = { route: "/api/v1/status/:session_id", method: "GET", status: "4xx" };
    expect(value(samples, "open_swarm_http_request_duration_seconds_count", route)).toBeGreaterThanOrEqual(2);
    const routes = new Set(samples.map((s) => s.labels["route"]).filter((r) => r !== undefined));
    for (const id of ids) expect([...routes].some((r) => r.includes(id))).toBe(false);
  });

  it("keeps the JSON view, and /api/v1/ready answers 200 while the server takes work", async () => {
    const json = (await (await call(t.baseUrl, "/api/v1/metrics")).json()) as {
      api: { sessionsStarted: number };
    };
    expect(json.api.sessionsStarted).toBeGreaterThanOrEqual(1);
    const ready = await call(t.baseUrl, "/api/v1/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
  });

  it("refuses a remote caller without METRICS_TOKEN, like the JSON view", async () => {
    const proxied = await startApiServer({}, { trustProxy: true });
    try {
      const res = await call(proxied.baseUrl, "/metrics", { "X-Forwarded-For": "203.0.113.9" });
      expect(res.status).toBe(403);
      expect(proxied.server.metrics().rejected.http["metrics_forbidden"]).toBe(1);
    } finally {
      await proxied.close();
    }
  });
});
