import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseApiKeys } from "../../../api/keys.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { bearer, call, collectLines, post, refused, startApiServer, tridiagonalRequest } from "./helpers.ts";

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

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text exposition format (0.0.4): throws on any line it does not understand. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") types.set(meta[2]!, meta[3]!);
      else helps.add(meta[2]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) {
      labels[m[1]!] = m[2]!;
    }
    // Go's ParseFloat (what Prometheus reads with) takes NaN and ±Inf in any case.
    const raw = sample[3]!;
    const value = /^nan$/i.test(raw)
      ? NaN
      : /^[+-]?inf$/i.test(raw)
        ? raw.startsWith("-")
          ? -Infinity
          : Infinity
        : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`not a number: ${line}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  for (const name of types.keys()) if (!helps.has(name)) throw new Error(`no HELP for ${name}`);
  for (const s of samples) {
    const family = s.name.replace(/_(bucket|sum|count)$/, "");
    if (!types.has(s.name) && !types.has(family)) throw new Error(`no TYPE for ${s.name}`);
  }
  return { samples, types };
}

async function scrape(): Promise<{ samples: Sample[]; types: Map<string, string> }> {
  const res = await call(t.baseUrl, "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parsePrometheus(await res.text());
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

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
