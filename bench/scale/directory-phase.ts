/**
 * bench:scale, first half: N lightweight protocol-level peers (a raw WebSocket each, a real Ed25519-signed
 * join, no browser) join a server running in its own process. What the directory costs at that size: time
 * until all are listed, frames out per join, the welcome's size, server RSS per peer, one query's latency.
 */
import type { Identity } from "../../src/core/identity/identity.ts";
import { RawDirectoryPeer, benchCapabilities, viewsSettled } from "../attack/raw-directory-peer.ts";
import {
  SOURCE_ADDRESSES,
  cpuMs,
  memoryMB,
  serverCounts,
  startServerProcess,
  stopServerProcess,
  waitUntil,
} from "../server-process.ts";

const CAPABILITIES = benchCapabilities("node");

export interface DirectoryRun {
  readonly n: number;
  /** From the first connection until every peer has its welcome and the server counts all N online. */
  readonly listedMs: number;
  /** Directory frames the server sent (every type but pong) during the joins, per join. */
  readonly framesPerJoin: number;
  /** Peer records the server sent (welcome samples, joins announced), per join. */
  readonly recordsPerJoin: number;
  /** Frames one more join costs once N are online (its challenge and welcome, and the announcements). */
  readonly lateJoinFrames: number;
  /** The welcome of a peer joining when N are online. */
  readonly welcomeBytes: number;
  /** One `query` (any peer, k = 16) from that peer, round trip. */
  readonly queryMs: number;
  readonly rssGrowthMB: number;
  readonly serverCpuMs: number;
  readonly slowConsumersDropped: number;
}

function framesOut(out: Record<string, number>): number {
  return Object.entries(out).reduce((sum, [type, count]) => (type === "pong" ? sum : sum + count), 0);
}

function records(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Joins `ids.length - 1` peers at once, then one probe; the server is started and stopped here. */
export async function runDirectoryPhase(repoDir: string, ids: readonly Identity[]): Promise<DirectoryRun> {
  const n = ids.length - 1;
  const server = await startServerProcess(repoDir);
  const swarm: RawDirectoryPeer[] = [];
  try {
    // Let the idle server settle (module loading, first GC) before the baseline.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = memoryMB(server.pid);
    const cpuBefore = cpuMs(server.pid);
    const startMs = performance.now();
    for (let i = 0; i < n; i++) {
      const localAddress = SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length];
      swarm.push(new RawDirectoryPeer(server.directoryUrl, ids[i]!, CAPABILITIES, { localAddress }));
    }
    await Promise.all(swarm.map((p) => p.welcomed));
    await until(async () => (await serverCounts(server.url)).peers === n, `${n} peers listed`, 60_000);
    const listedMs = performance.now() - startMs;
    await waitUntil(() => viewsSettled(swarm), "every announcement to arrive", 120_000);
    const after = memoryMB(server.pid);
    const serverCpuMs = cpuMs(server.pid) - cpuBefore;
    const counts = await serverCounts(server.url);

    const probe = new RawDirectoryPeer(server.directoryUrl, ids[n]!, CAPABILITIES, {
      localAddress: SOURCE_ADDRESSES[n % SOURCE_ADDRESSES.length],
    });
    swarm.push(probe);
    await probe.welcomed;
    await waitUntil(() => viewsSettled(swarm), "the probe's announcements", 30_000);
    const late = await serverCounts(server.url);
    const queryStart = performance.now();
    probe.send({ type: "query", id: "bench", filter: {}, k: 16 });
    await waitUntil(() => probe.framesByType.has("query-result"), "the query result", 10_000);
    const queryMs = performance.now() - queryStart;

    return {
      n,
      listedMs,
      framesPerJoin: framesOut(counts.messages.out) / n,
      recordsPerJoin: records(counts.peerRecordsOut) / n,
      lateJoinFrames: framesOut(late.messages.out) - framesOut(counts.messages.out),
      welcomeBytes: probe.welcomeBytes,
      queryMs,
      rssGrowthMB: after.rss - before.rss,
      serverCpuMs,
      slowConsumersDropped: counts.slowConsumersDropped,
    };
  } finally {
    for (const p of swarm) p.close();
    await stopServerProcess(server);
  }
}
