import { readFileSync, writeFileSync } from "node:fs";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { Tab } from "./harness.ts";

/**
 * Where the requester tab's main thread spends its time, from Chrome's sampling profiler (CDP
 * Profiler.start/stop in the tab, 100 µs samples). The build is minified, so each sampled frame is mapped
 * back to its source file through the build's source maps (dist-test/assets/*.js.map), and each sample is
 * charged to the first frame, leaf upward, whose source file falls in a category below: a native call
 * (IndexedDB, crypto.subtle, postMessage) is charged to the code that made it.
 */
export type Breakdown = Record<string, number>;

/** Source path patterns → category, first match wins (order matters: specific before general). */
const CATEGORIES: readonly [RegExp, string][] = [
  [/node_modules\/dexie|core\/storage\//, "indexeddb"],
  [/core\/base\/digest|core\/jobs\/payload/, "hashing_encoding"],
  [/core\/identity\//, "signing_verifying_envelopes"],
  [/core\/jobs\/requester\/(result-check|verify)|core\/jobs\/verify|core\/sparse\//, "residual_verification"],
  [/core\/jobs\/scheduler\//, "scheduler"],
  [/node_modules\/zod|core\/protocol\//, "schema_validation"],
  [/core\/net\/(framing|blob-transfer|backpressure)|node_modules\/peerjs/, "message_framing_transport"],
  [/core\/net\//, "mesh_other"],
  [/core\/jobs\/volunteer\//, "own_volunteer_runtime"],
  [/core\/jobs\/requester\/view|state\/|node_modules\/zustand/, "view_state"],
  [/node_modules\/react|node_modules\/scheduler|app\//, "react_render"],
  [/core\/jobs\//, "requester_runtime_other"],
  [/pino|log/, "logging"],
];

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export async function startProfile(tab: Tab): Promise<void> {
  await tab.cdp.send("Profiler.enable");
  await tab.cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await tab.cdp.send("Profiler.start");
}

/** Stops the profiler and returns ms per category (plus "(garbage collector)", "(program)", "other"). */
export async function stopProfile(tab: Tab, distDir: string, saveAs?: string): Promise<Breakdown> {
  const { profile } = (await tab.cdp.send("Profiler.stop")) as unknown as { profile: Profile };
  if (saveAs !== undefined) writeFileSync(saveAs, JSON.stringify(profile));
  return breakdown(profile, distDir);
}

function breakdown(profile: Profile, distDir: string): Breakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) byId.get(c)!.parent = n.id;
  const maps = new Map<string, TraceMap | null>();
  const mapOf = (url: string): TraceMap | null => {
    if (!maps.has(url)) {
      const path = new URL(url).pathname;
      let map: TraceMap | null = null;
      try {
        map = new TraceMap(readFileSync(`${distDir}${path}.map`, "utf8"));
      } catch {
        map = null;
      }
      maps.set(url, map);
    }
    return maps.get(url)!;
  };
  const categoryOfNode = new Map<number, string | null>();
  const categoryOf = (node: ProfileNode): string | null => {
    if (categoryOfNode.has(node.id)) return categoryOfNode.get(node.id)!;
    const { url, lineNumber, columnNumber, functionName } = node.callFrame;
    let category: string | null = null;
    if (url.startsWith("http")) {
      const map = mapOf(url);
      const source =
        map === null
          ? url
          : (originalPositionFor(map, { line: lineNumber + 1, column: columnNumber }).source ?? url);
      category = CATEGORIES.find(([re]) => re.test(source))?.[1] ?? null;
    } else if (functionName.startsWith("(")) category = functionName;
    categoryOfNode.set(node.id, category);
    return category;
  };
  const out: Breakdown = {};
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    let node: ProfileNode | undefined = byId.get(profile.samples[i]!);
    let category: string | null = null;
    while (node !== undefined && category === null) {
      category = categoryOf(node);
      node = node.parent === undefined ? undefined : byId.get(node.parent);
    }
    const key = category ?? "other";
    out[key] = (out[key] ?? 0) + ms;
  }
  delete out["(idle)"];
  return out;
}
