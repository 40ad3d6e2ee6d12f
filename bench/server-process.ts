/**
 * The signaling server in its own process, as `npm run serve` starts it, for benches that measure the server
 * (its RSS and CPU are read from /proc, apart from the clients'). Shared by bench/attack/join-storm.ts and
 * bench/scale. Linux only (/proc).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Loopback source addresses (127.0.0.2..41): clients spread over them so the server's per-address caps,
 * left at their defaults, do not refuse a thousand clients from one machine.
 */
export const SOURCE_ADDRESSES = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`);

export interface ServerProcess {
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** ws://127.0.0.1:PORT/api/v1/directory */
  readonly directoryUrl: string;
  readonly pid: number;
  readonly staticDir: string;
}

/** Starts `signaling/main.ts` of `serverDir` on a free loopback port, serving an empty static dir. */
export async function startServerProcess(
  serverDir: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const staticDir = mkdtempSync(path.join(tmpdir(), "open-swarm-bench-"));
  writeFileSync(path.join(staticDir, "index.html"), "<!doctype html><title>bench</title>");
  const child = spawn(process.execPath, ["--import", "tsx", "signaling/main.ts"], {
    cwd: serverDir,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", STATIC_DIR: staticDir, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /running at (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!.replace("localhost", "127.0.0.1"));
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  const directoryUrl = `${url.replace("http:", "ws:")}/api/v1/directory`;
  return { child, url, directoryUrl, pid: child.pid!, staticDir };
}

export async function stopServerProcess(server: ServerProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => server.child.once("exit", () => resolve()));
  server.child.kill("SIGTERM");
  await exited;
  rmSync(server.staticDir, { recursive: true, force: true });
}

/** Resident and peak resident set of a process, in MB. */
export function memoryMB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** User + system CPU time of a process, in ms (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The parts of GET /api/v1/metrics the benches read. */
export interface ServerCounts {
  peers: number;
  slowConsumersDropped: number;
  peerRecordsOut: Record<string, number>;
  messages: { out: Record<string, number> };
}

export async function serverCounts(url: string): Promise<ServerCounts> {
  const res = await fetch(`${url}/api/v1/metrics`);
  return (await res.json()) as ServerCounts;
}

/** Directory frames about other peers (v2's and v1's types), i.e. what a join or a change costs to announce. */
const PEER_FRAME_TYPES = [
  "welcome",
  "peers-changed",
  "peers-sample",
  "peer-joined",
  "peer-updated",
  "peer-left",
];

export function peerFramesOut(out: Record<string, number>): number {
  return PEER_FRAME_TYPES.reduce((sum, type) => sum + (out[type] ?? 0), 0);
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
