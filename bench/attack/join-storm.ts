/**
 * Join storm against the directory (issue 10, item 3): N peers join with real signed joins, then one of
 * them floods 100 capability updates. The server runs in its own process (its RSS and CPU are read from
 * /proc), started as `npm run serve` would be, with the default limits: the clients spread over 40 loopback
 * source addresses (127.0.0.2..41) so the per-address caps do not refuse them.
 *
 *   npx tsx bench/attack/join-storm.ts [--n 1000,200] [--repeats 3] [--server-dir DIR] [--no-flood] [--json]
 *
 * `--server-dir` runs the server of another checkout (e.g. a snapshot of main, with node_modules) so the
 * same storm measures the code before the change; the raw clients speak either protocol version.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateKeyPair, identityFromKeyPair, type Identity } from "../../src/core/identity/identity.ts";
import { median } from "../experts/stats.ts";
import { RawDirectoryPeer, benchCapabilities, viewsSettled } from "./raw-directory-peer.ts";
import {
  SOURCE_ADDRESSES,
  cpuMs,
  memoryMB,
  peerFramesOut,
  serverCounts as metrics,
  startServerProcess,
  stopServerProcess,
  waitUntil as waitFor,
} from "../server-process.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FLOOD_UPDATES = 100;
/** Under the server's 20 frames/s per connection, so every update is admitted (as in the attack). */
const FLOOD_RATE_PER_S = 15;

const CAPABILITIES = benchCapabilities("browser");

interface Run {
  n: number;
  stormMs: number;
  rssGrowthMB: number;
  peakRssGrowthMB: number;
  serverCpuMs: number;
  framesOutPerJoin: number;
  /** Peer records (a listed, joined, updated or left peer) the clients received, per join. */
  recordsPerJoin: number;
  welcomeBytesMedian: number;
  welcomeBytesMax: number;
  minKnown: number;
  /** Peers online at the end of the storm, and peers the server cut off for not reading fast enough. */
  peersOnline: number;
  slowConsumersDropped: number;
  floodFramesOut: number | null;
  floodCpuMs: number | null;
}

async function runOnce(serverDir: string, ids: readonly Identity[], flood: boolean): Promise<Run> {
  const server = await startServerProcess(serverDir);
  const swarm: RawDirectoryPeer[] = [];
  try {
    // Let the idle server settle (module loading, first GC) before the baseline.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const directoryUrl = server.directoryUrl;
    const before = memoryMB(server.pid);
    const cpuBefore = cpuMs(server.pid);
    const startMs = Date.now();
    for (let i = 0; i < ids.length; i += 100) {
      const wave = ids.slice(i, i + 100).map(
        (id, k) =>
          new RawDirectoryPeer(directoryUrl, id, CAPABILITIES, {
            localAddress: SOURCE_ADDRESSES[(i + k) % SOURCE_ADDRESSES.length],
          }),
      );
      swarm.push(...wave);
      await Promise.all(wave.map((p) => p.welcomed));
    }
    // A peer the server cut off (too slow to read its backlog) is out of the swarm: settle the rest.
    await waitFor(
      () => viewsSettled(swarm.filter((p) => p.closeCode === null)),
      "every announcement to arrive",
      180_000,
    );
    const stormMs = Date.now() - startMs;
    const cpuAfterStorm = cpuMs(server.pid);
    const after = memoryMB(server.pid);
    const counts = await metrics(server.url);
    const out = counts.messages.out;
    const welcomes = swarm.map((p) => p.welcomeBytes);
    const records = swarm.reduce((sum, p) => sum + p.recordsReceived, 0);

    let floodFramesOut: number | null = null;
    let floodCpuMs: number | null = null;
    if (flood) {
      const flooder = swarm[swarm.length - 1]!;
      const watchers = swarm.filter((p) => p.known.has(flooder.identity.peerId));
      const cpu0 = cpuMs(server.pid);
      const out0 = peerFramesOut(out);
      for (let i = 1; i <= FLOOD_UPDATES; i++) {
        flooder.updateCapabilities({ ...CAPABILITIES, benchmarkMflops: i });
        await new Promise((resolve) => setTimeout(resolve, 1000 / FLOOD_RATE_PER_S));
      }
      const mflops = (p: RawDirectoryPeer): unknown =>
        (p.known.get(flooder.identity.peerId)?.["capabilities"] as { benchmarkMflops?: unknown } | undefined)
          ?.benchmarkMflops;
      await waitFor(() => watchers.every((w) => mflops(w) === FLOOD_UPDATES), "the latest update", 30_000);
      floodFramesOut = peerFramesOut((await metrics(server.url)).messages.out) - out0;
      floodCpuMs = cpuMs(server.pid) - cpu0;
    }
    return {
      n: ids.length,
      stormMs,
      rssGrowthMB: after.rss - before.rss,
      peakRssGrowthMB: after.peak - before.rss,
      serverCpuMs: cpuAfterStorm - cpuBefore,
      framesOutPerJoin: peerFramesOut(out) / ids.length,
      recordsPerJoin: records / ids.length,
      welcomeBytesMedian: median(welcomes) ?? 0,
      welcomeBytesMax: Math.max(...welcomes),
      minKnown: Math.min(...swarm.map((p) => p.known.size)),
      peersOnline: counts.peers,
      slowConsumersDropped: counts.slowConsumersDropped,
      floodFramesOut,
      floodCpuMs,
    };
  } finally {
    for (const p of swarm) p.close();
    await stopServerProcess(server);
  }
}

function summary(values: readonly number[]): string {
  const m = median(values) ?? NaN;
  const digits = Math.abs(m) >= 100 ? 0 : 1;
  return `${m.toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: "string", default: "1000,200" },
      repeats: { type: "string", default: "3" },
      "server-dir": { type: "string", default: REPO },
      "no-flood": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const sizes = values.n.split(",").map(Number);
  const repeats = Number(values.repeats);
  const serverDir = path.resolve(values["server-dir"]);
  const maxN = Math.max(...sizes);
  const ids = await Promise.all(
    Array.from({ length: maxN }, async () => identityFromKeyPair(await generateKeyPair())),
  );
  console.log(`join storm against the server in ${serverDir} (${repeats} repeats; median [min–max])`);
  const all: Run[] = [];
  for (const n of sizes) {
    const runs: Run[] = [];
    for (let r = 0; r < repeats; r++) {
      const run = await runOnce(serverDir, ids.slice(0, n), !values["no-flood"]);
      runs.push(run);
      all.push(run);
      console.log(`  n=${n} #${r + 1}: ${JSON.stringify(run)}`);
    }
    const col = (key: keyof Run): string => summary(runs.map((run) => Number(run[key])));
    console.log(`n=${n}`);
    console.log(`  storm wall ms             ${col("stormMs")}`);
    console.log(`  server RSS growth MB      ${col("rssGrowthMB")}  (peak ${col("peakRssGrowthMB")})`);
    console.log(`  server CPU ms             ${col("serverCpuMs")}`);
    console.log(`  directory frames per join ${col("framesOutPerJoin")}`);
    console.log(`  peer records per join     ${col("recordsPerJoin")}  (welcome lists included)`);
    console.log(
      `  welcome bytes             median ${col("welcomeBytesMedian")}, max ${col("welcomeBytesMax")}`,
    );
    console.log(`  fewest peers a peer knows ${col("minKnown")}`);
    console.log(
      `  online after the storm    ${col("peersOnline")}  (slow consumers cut ${col("slowConsumersDropped")})`,
    );
    if (!values["no-flood"]) {
      console.log(
        `  ${FLOOD_UPDATES} capability updates: frames out ${col("floodFramesOut")}, CPU ms ${col("floodCpuMs")}`,
      );
    }
  }
  if (values.json) console.log(JSON.stringify(all));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
