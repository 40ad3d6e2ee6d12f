/**
 * `npx tsx bench/attack/server-flood.ts [--server-dir DIR] [--repeats 3] [--duration-s 8] [--frame-kib 60,15]`
 *
 * Issue 10 item 1, measured: the PeerJS queue flood against a real server process. Eight attackers, each from
 * its own loopback address (127.0.0.2-9, as eight machines would be), join the directory once, register with
 * PeerJS, and then send OFFER frames to peer ids that are not online as fast as their sockets drain; whenever
 * the server drops a socket they reconnect with the same directory token. The server runs as a child process
 * with a 256 MB heap (`--max-old-space-size=256`); its RSS and CPU time are read from /proc every 100 ms.
 *
 * Reported per frame size, over the repeats: RSS growth (peak during the flood minus RSS after the joins),
 * server CPU seconds, frames the attackers got onto the wire, and whether the server crashed. Goal: growth
 * under 50 MB, no crash. `--server-dir` runs another checkout's server (e.g. main) against the same attack.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { generateKeyPair, identityFromKeyPair } from "../../src/core/identity/identity.ts";
import { DirectoryClient, directoryUrlFor } from "../../src/core/net/directory-client.ts";
import type { Capabilities } from "../../src/core/protocol/capabilities.ts";

const { values: args } = parseArgs({
  options: {
    "server-dir": { type: "string", default: path.resolve(import.meta.dirname, "../..") },
    repeats: { type: "string", default: "3" },
    "duration-s": { type: "string", default: "8" },
    "frame-kib": { type: "string", default: "60,15" },
    attackers: { type: "string", default: "8" },
  },
});
const serverDir = path.resolve(args["server-dir"]);
const repeats = Number(args.repeats);
const durationMs = Number(args["duration-s"]) * 1000;
const frameKibs = args["frame-kib"].split(",").map(Number);
const attackerCount = Number(args.attackers);
const HEAP_MB = 256;
const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ

const CAPABILITIES: Capabilities = {
  webgpu: null,
  wasm: { simd: true, threads: false },
  hardwareConcurrency: 2,
  crossOriginIsolated: true,
  benchmarkMflops: 450,
  runtime: "node",
};

interface RunResult {
  baselineRssMb: number;
  peakGrowthMb: number;
  cpuS: number;
  framesSent: number;
  crashed: boolean;
  /** The server's own count of PeerJS frames it refused (absent on servers without the relay guard). */
  refused: number | null;
}

function procRssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function procCpuS(pid: number): number | null {
  try {
    // Fields after the ")" of the command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

async function startServerProcess(): Promise<{ child: ChildProcess; url: string; exited: () => boolean }> {
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, "--import", "tsx", "signaling/main.ts"],
    {
      cwd: serverDir,
      env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "silent", STATIC_DIR: "dist" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  child.stderr?.resume();
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start in ${serverDir}: ${out}`)), 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("is running at")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited: () => exited };
}

/** A ws WebSocket bound to a local source address: the server sees each attacker as its own machine. */
function socketFrom(localAddress: string): new (url: string) => WebSocket {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { localAddress });
    }
  };
}

function offlineId(): string {
  return `os${randomBytes(16).toString("hex")}`;
}

/** One attacker: joined once, then floods the relay, reconnecting with the same token, until `stopAt`. */
async function attacker(
  url: string,
  localAddress: string,
  frameBytes: number,
  stopAt: number,
): Promise<number> {
  const identity = await identityFromKeyPair(await generateKeyPair());
  const directory = new DirectoryClient({
    url: directoryUrlFor(url),
    identity,
    capabilities: CAPABILITIES,
    WebSocketImpl: socketFrom(localAddress),
    reconnect: false,
  });
  await directory.connect();
  const targets = Array.from({ length: 256 }, offlineId);
  const padding = "v".repeat(Math.max(0, frameBytes - 200));
  let sent = 0;
  const peerUrl = new URL("/peerjs/peerjs", url.replace(/^http/, "ws"));
  peerUrl.search = new URLSearchParams({
    key: "peerjs",
    id: identity.peerId,
    token: directory.sessionToken!,
  }).toString();
  while (Date.now() < stopAt) {
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(peerUrl, { localAddress });
      ws.on("error", () => {});
      ws.on("message", () => {}); // OPEN, EXPIRE: read and ignored
      let i = 0;
      const pump = (): void => {
        if (ws.readyState !== WebSocket.OPEN || Date.now() >= stopAt) return;
        // A bounded batch per turn: the socket's close (the server dropping us) is only seen between turns.
        for (let batch = 0; batch < 32 && ws.bufferedAmount < 1 << 20; batch++) {
          const dst = targets[i++ % targets.length]!;
          ws.send(
            JSON.stringify({
              type: "OFFER",
              dst,
              payload: { sdp: padding, type: "data", connectionId: `dc_${i}` },
            }),
          );
          sent++;
        }
        setImmediate(pump);
      };
      ws.once("open", pump);
      ws.once("close", () => resolve());
      // Refused upgrades (e.g. the per-address upgrade rate) arrive as 'unexpected-response'.
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        ws.terminate();
      });
      setTimeout(() => ws.terminate(), Math.max(0, stopAt - Date.now()));
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  directory.close();
  return sent;
}

async function run(frameKib: number): Promise<RunResult> {
  const server = await startServerProcess();
  const pid = server.child.pid!;
  try {
    // Join everyone first (the joins are not the attack), then measure from there.
    const joinedAt = Date.now() + 2_000;
    const stopAt = joinedAt + durationMs;
    const attacks = Array.from({ length: attackerCount }, (_, i) =>
      attacker(server.url, `127.0.0.${2 + i}`, frameKib * 1024, stopAt),
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, joinedAt - Date.now())));
    const baselineRssMb = procRssMb(pid) ?? 0;
    const cpuBefore = procCpuS(pid) ?? 0;
    let peakRssMb = baselineRssMb;
    let cpuAfter = cpuBefore;
    const sampler = setInterval(() => {
      const rss = procRssMb(pid);
      const cpu = procCpuS(pid);
      if (rss !== null) peakRssMb = Math.max(peakRssMb, rss);
      if (cpu !== null) cpuAfter = cpu;
    }, 100);
    const sent = (await Promise.allSettled(attacks)).reduce(
      (a, r) => a + (r.status === "fulfilled" ? r.value : 0),
      0,
    );
    clearInterval(sampler);
    let refused: number | null = null;
    let crashed = server.exited();
    if (!crashed) {
      try {
        const metrics = (await (await fetch(`${server.url}/api/v1/metrics`)).json()) as {
          rejected?: { peerjs?: Record<string, number> };
        };
        const peerjs = metrics.rejected?.peerjs;
        refused = peerjs ? Object.values(peerjs).reduce((a, b) => a + b, 0) : null;
      } catch {
        crashed = true;
      }
    }
    return {
      baselineRssMb,
      peakGrowthMb: peakRssMb - baselineRssMb,
      cpuS: cpuAfter - cpuBefore,
      framesSent: sent,
      crashed,
      refused,
    };
  } finally {
    server.child.kill("SIGKILL");
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits: number): string =>
  `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;

console.log(
  `PeerJS queue flood: ${attackerCount} attackers (127.0.0.2-${1 + attackerCount}), ${durationMs / 1000} s, ` +
    `server ${serverDir} with a ${HEAP_MB} MB heap, ${repeats} repeats; median [min–max]`,
);
const rows: string[][] = [];
for (const frameKib of frameKibs) {
  const results: RunResult[] = [];
  for (let r = 0; r < repeats; r++) {
    const result = await run(frameKib);
    results.push(result);
    console.log(
      `  ${frameKib} KiB frames, run ${r + 1}: RSS +${result.peakGrowthMb.toFixed(1)} MB (from ${result.baselineRssMb.toFixed(0)}), ` +
        `CPU ${result.cpuS.toFixed(2)} s, ${result.framesSent} frames sent, crashed: ${result.crashed}, refused: ${result.refused ?? "n/a"}`,
    );
  }
  rows.push([
    `${frameKib} KiB`,
    spread(
      results.map((r) => r.baselineRssMb),
      0,
    ),
    spread(
      results.map((r) => r.peakGrowthMb),
      1,
    ),
    spread(
      results.map((r) => r.cpuS),
      2,
    ),
    spread(
      results.map((r) => r.framesSent / 1000),
      1,
    ),
    `${results.filter((r) => r.crashed).length}/${results.length}`,
    results.every((r) => !r.crashed && r.peakGrowthMb < 50) ? "yes" : "NO",
  ]);
}
const header = [
  "frame",
  "RSS before (MB)",
  "RSS growth (MB)",
  "server CPU (s)",
  "frames sent (k)",
  "crashed",
  "goal met",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log();
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) console.log(line(row));
console.log("\nGoal: RSS growth < 50 MB and no crash.");
