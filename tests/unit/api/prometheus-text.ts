import { expect } from "vitest";
import { call } from "./helpers.ts";

// Reading GET /metrics in the tests (prometheus.test.ts, prometheus-swarm.test.ts, swarm.test.ts): a
// strict parser of the text exposition format, a scrape from a real server, and a series' value.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  types: Map<string, string>;
}

/** A strict reader of the text exposition format (0.0.4): throws on any line it does not understand. */
export function parsePrometheus(text: string): Scrape {
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

/** GET /metrics from the server at `baseUrl` (a loopback caller), parsed. */
export async function scrapeMetrics(baseUrl: string): Promise<Scrape> {
  const res = await call(baseUrl, "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parsePrometheus(await res.text());
}

/** The sum of the samples of `name` whose labels include `labels`. */
export const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
