/**
 * `npm run bench:mesh -- --json FILE`: how fast a swarm of tabs forms and how well its data channels carry data.
 *  - time until N peers (2, 4, 8 browser contexts) are all connected to each other over WebRTC;
 *  - data-channel throughput (MB/s) of a 16 MiB transfer between two tabs, and round-trip latency p50/p99;
 *  - signaling messages per peer join (directory + PeerJS frames seen by the server, divided by joins).
 * Everything runs on this machine (loopback); absolute times are noisy, so each figure is a median of repeats.
 */
import { writeFileSync, existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { chromium, type Browser, type Page } from "@playwright/test";
// Brings in the global `window.openSwarm` type (the ?test=1 hook).
import type {} from "../src/state/swarm/boot.ts";
import { startServer } from "../signaling/server.ts";
import { chromiumLaunchOptions } from "../scripts/chromium.ts";

const { values: args } = parseArgs({
  options: {
    json: { type: "string" },
    sizes: { type: "string", default: "2,4,8" },
    repeats: { type: "string", default: "3" },
  },
});
const sizes = args.sizes.split(",").map(Number);
const repeats = Number(args.repeats);
const notMeasured: string[] = [];

if (!existsSync("dist-test/index.html")) {
  console.error("bench:mesh needs the test build of the app (dist-test/): run `npm run build:test` first");
  process.exit(1);
}

const server = await startServer({
  port: 0,
  staticDir: "dist-test",
  logLevel: "silent",
  // Eight contexts from one address join at once: lift the per-address limits for the benchmark.
  maxConnectionsPerIp: 256,
  upgradeBurst: 256,
  upgradeRatePerS: 256,
});
const browser = await chromium.launch(chromiumLaunchOptions());

interface Metrics {
  joins: number;
  messages: { in: Record<string, number>; out: Record<string, number>; peerjsIn: Record<string, number> };
}
async function metrics(): Promise<Metrics> {
  return (await (await fetch(`${server.url}/api/v1/metrics`)).json()) as Metrics;
}
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function openPeers(b: Browser, n: number) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const context = await b.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/?test=1`);
      return { context, page };
    }),
  );
}

function meshState(page: Page): Promise<{ joined: boolean; connected: number }> {
  return page.evaluate(() => {
    const swarm = window.openSwarm?.swarm;
    // Tabs dial on demand (the overlay): a full mesh is every tab wanting every peer it knows.
    for (const peer of swarm?.directory.peers ?? []) swarm?.mesh.want(peer.peerId, "bench");
    return {
      joined: window.openSwarm?.store.getState().status === "connected",
      connected: swarm?.mesh.connectedPeerIds().length ?? 0,
    };
  });
}

async function timeToFullMesh(
  n: number,
): Promise<{ ms: number; afterJoinMs: number; signalingPerJoin: number }> {
  const before = await metrics();
  const startMs = performance.now();
  const peers = await openPeers(browser, n);
  const deadline = startMs + 60_000;
  // First time each peer was seen joined to the directory (polling granularity ~20 ms).
  const joinedAtMs: (number | null)[] = peers.map(() => null);
  let counts: number[] = [];
  for (;;) {
    const states = await Promise.all(peers.map((p) => meshState(p.page)));
    states.forEach((st, i) => {
      if (st.joined && joinedAtMs[i] === null) joinedAtMs[i] = performance.now();
    });
    counts = states.map((st) => st.connected);
    if (counts.every((c) => c === n - 1)) break;
    if (performance.now() > deadline)
      throw new Error(`mesh of ${n} not complete after 60 s: ${counts.join(",")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const endMs = performance.now();
  const ms = endMs - startMs;
  const afterJoinMs = endMs - Math.max(...joinedAtMs.map((t) => t ?? endMs));
  const after = await metrics();
  const frames = (m: Metrics) => sum(m.messages.in) + sum(m.messages.out) + sum(m.messages.peerjsIn);
  const signalingPerJoin = (frames(after) - frames(before)) / Math.max(1, after.joins - before.joins);
  await Promise.all(peers.map((p) => p.context.close()));
  return { ms, afterJoinMs, signalingPerJoin };
}

const meshRows: {
  peers: number;
  connect_ms_median: number;
  connect_ms_all: number[];
  mesh_after_last_join_ms_median: number;
  signaling_messages_per_join: number;
}[] = [];
for (const n of sizes) {
  const runs: { ms: number; afterJoinMs: number; signalingPerJoin: number }[] = [];
  for (let r = 0; r < repeats; r++) runs.push(await timeToFullMesh(n));
  meshRows.push({
    peers: n,
    connect_ms_median: median(runs.map((r) => r.ms)),
    connect_ms_all: runs.map((r) => Math.round(r.ms)),
    mesh_after_last_join_ms_median: median(runs.map((r) => r.afterJoinMs)),
    signaling_messages_per_join: median(runs.map((r) => r.signalingPerJoin)),
  });
  console.log(
    `mesh of ${n}: fully connected ${median(runs.map((r) => r.ms)).toFixed(0)} ms after the tabs were opened, ` +
      `${median(runs.map((r) => r.afterJoinMs)).toFixed(0)} ms after the last one joined the directory ` +
      `(median of ${repeats}; the rest is page load and capability probing)`,
  );
}

// Two tabs: throughput and round-trip latency on one authenticated data channel.
const [a, b] = await openPeers(browser, 2);
const bPeerId = await b!.page.evaluate(async () => (await window.openSwarm!.ready).identity.peerId);
const transfer = await a!.page.evaluate(async (to) => {
  const swarm = await window.openSwarm!.ready;
  await swarm.mesh.waitForPeer(to, 20_000);
  const bytes = new Uint8Array(16 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  const throughputs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const receipt = await swarm.mesh.sendBlob(to, bytes);
    throughputs.push(bytes.length / 1e6 / (receipt.elapsedMs / 1000));
  }
  const rtts: number[] = [];
  // Timed here with performance.now() (crossOriginIsolated: microsecond resolution), not by the mesh's clock.
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    await swarm.mesh.ping(to);
    rtts.push(performance.now() - t0);
  }
  return { throughputs, rtts };
}, bPeerId);
await Promise.all([a!, b!].map((p) => p.context.close()));

const result = {
  mesh: meshRows,
  datachannel: {
    payload_bytes: 16 * 1024 * 1024,
    throughput_mb_per_s_median: median(transfer.throughputs),
    throughput_mb_per_s_all: transfer.throughputs,
    rtt_ms_p50: percentile(transfer.rtts, 50),
    rtt_ms_p99: percentile(transfer.rtts, 99),
    rtt_samples: transfer.rtts.length,
    note: "throughput includes SHA-256 on both sides and the receiver's acknowledgement",
  },
  not_measured: [
    ...notMeasured,
    "connections across real networks (NAT traversal, STUN/TURN): every peer here is on loopback",
    "more than 8 peers: 2 cores cannot host more Chromium contexts meaningfully",
  ],
};
console.log(
  `data channel: ${result.datachannel.throughput_mb_per_s_median.toFixed(1)} MB/s; ` +
    `RTT p50 ${result.datachannel.rtt_ms_p50.toFixed(2)} ms, p99 ${result.datachannel.rtt_ms_p99.toFixed(2)} ms`,
);
for (const row of meshRows)
  console.log(
    `  ${row.peers} peers: ${row.signaling_messages_per_join.toFixed(1)} signaling messages per join`,
  );
console.log(`not measured: ${result.not_measured.join("; ")}`);
if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
await browser.close();
await server.close();
process.exit(0);
