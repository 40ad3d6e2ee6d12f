/**
 * bench:scale, second half (issue 12): real Node volunteers (`open-swarm volunteer`, one process each) and a
 * few requester processes (bench/scale/requester-child.ts) on a fresh server, all on 127.0.0.1. While the
 * jobs run, a fifth of the volunteers are SIGKILLed (no goodbye: their leases must be noticed and reissued),
 * each at a random point of the phase: when the count of finished jobs crosses a random threshold, which
 * places every kill inside the phase whatever the machine's speed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { freemem, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { seededRandom } from "../../src/core/base/seeded-random.ts";
import { median, percentile } from "../experts/stats.ts";
import { startServerProcess, stopServerProcess } from "../server-process.ts";
import type { JobsFigures, JobsPhaseContext } from "./jobs-phase.ts";
import { latencyBreakdown, type Kill, type LatencyBreakdown } from "./latency-breakdown.ts";
import type { JobLine, SummaryLine } from "./requester-child.ts";

const WANTED_VOLUNTEERS = 20;
const REQUESTERS = 4;
const JOBS_PER_REQUESTER = 50;
const CONCURRENCY = 5;
/** What one volunteer process holds (tsx, libwebrtc, a wasm worker thread), measured ≈ 150 MB; with margin. */
const VOLUNTEER_MB = 250;
const RESERVE_MB = 2_000;
const JOIN_TIMEOUT_MS = 180_000;
const PHASE_TIMEOUT_MS = 360_000;

function child(repoDir: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, args, { cwd: repoDir, stdio: ["ignore", "pipe", "pipe"] });
}

function lines(proc: ChildProcess, onLine: (line: string) => void): void {
  createInterface({ input: proc.stdout! }).on("line", onLine);
  createInterface({ input: proc.stderr! }).on("line", onLine);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The slow tail, printed: which jobs, and where their time went. */
function printBreakdown(b: LatencyBreakdown): void {
  console.log(`  jobs: slowest 5 % (≥ ${b.tailFromMs} ms): ${JSON.stringify(b.tailCauses)}`);
  for (const j of b.tail) {
    const noticed =
      j.noticedAfterKillMs === null ? "" : `, lease ended ${j.noticedAfterKillMs} ms after SIGKILL`;
    console.log(
      `    ${j.latencyMs} ms: ${j.cause} (wait ${j.waitMs}, compute ${j.serviceMs}, verify ${j.afterMs}${noticed})`,
    );
    for (const lost of j.lost) console.log(`      ${lost}`);
  }
  console.log(
    `  jobs: ${b.jobsHitByKills} lost a unit to a killed volunteer (p50 ${b.hitLatencyMsP50} ms; others ${b.otherLatencyMsP50} ms); SIGKILL to reissue: ${JSON.stringify(b.noticed)}`,
  );
}

export async function runNodeJobsPhase(context: JobsPhaseContext): Promise<JobsFigures> {
  const wanted = context.volunteers ?? WANTED_VOLUNTEERS;
  const requestersN = context.requesters ?? REQUESTERS;
  const jobsPerRequester = context.jobsPerRequester ?? JOBS_PER_REQUESTER;
  const volunteersN = Math.max(
    2,
    Math.min(wanted, Math.floor((freemem() / 2 ** 20 - RESERVE_MB) / VOLUNTEER_MB)),
  );
  if (volunteersN < wanted) {
    console.log(`  jobs: only ${volunteersN} volunteers: free memory ${Math.round(freemem() / 2 ** 20)} MB`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "open-swarm-scale-jobs-"));
  // Every process is on 127.0.0.1: the per-address WebSocket cap is raised to hold them all.
  const server = await startServerProcess(context.repoDir, { MAX_CONNECTIONS_PER_IP: "1024" });
  const procs: ChildProcess[] = [];
  try {
    const bin = path.join(context.repoDir, "bin/open-swarm.mjs");
    const volunteers = Array.from({ length: volunteersN }, (_, i) => {
      const proc = child(context.repoDir, [
        bin,
        "volunteer",
        "--server",
        server.url,
        "--threads",
        "1",
        "--identity",
        path.join(dir, `volunteer-${i}.json`),
      ]);
      procs.push(proc);
      let peerId = "";
      const joined = new Promise<void>((resolve, reject) => {
        lines(proc, (line) => {
          const said = /^joined \S+ as (\S+)/.exec(line);
          if (!said) return;
          peerId = said[1]!;
          resolve();
        });
        proc.once("exit", (code) => reject(new Error(`volunteer ${i} exited with ${code} before joining`)));
      });
      return { proc, joined, peerId: () => peerId };
    });
    const joinStart = Date.now();
    await withTimeout(Promise.all(volunteers.map((v) => v.joined)), JOIN_TIMEOUT_MS, "volunteers joining");
    console.log(`  jobs: ${volunteersN} volunteers joined in ${Date.now() - joinStart} ms`);

    const jobsTotal = requestersN * jobsPerRequester;
    const seed = Number(process.env["SCALE_SEED"] ?? Date.now() % 1_000_000);
    const rng = seededRandom(seed);
    const killsN = Math.floor(volunteersN / 5);
    // Kill points: finished-job counts spread at random over the first 80 % of the phase.
    const killAt = Array.from({ length: killsN }, () => 1 + Math.floor(rng() * jobsTotal * 0.8)).sort(
      (x, y) => x - y,
    );
    const alive = [...volunteers];
    const kills: Kill[] = [];
    const jobs: JobLine[] = [];
    const summaries: SummaryLine[] = [];
    const onJob = (line: JobLine): void => {
      jobs.push(line);
      while (killAt.length > 0 && jobs.length >= killAt[0]!) {
        killAt.shift();
        const victim = alive.splice(Math.floor(rng() * alive.length), 1)[0]!;
        kills.push({ peerId: victim.peerId(), atMs: Date.now() });
        victim.proc.kill("SIGKILL");
        console.log(`  jobs: SIGKILL a volunteer after ${jobs.length} jobs`);
      }
    };
    const phaseStart = Date.now();
    const requesters = Array.from({ length: requestersN }, (_, i) => {
      const proc = child(context.repoDir, [
        "--import",
        "tsx",
        "bench/scale/requester-child.ts",
        "--server",
        server.url,
        "--identity",
        path.join(dir, `requester-${i}.json`),
        "--store",
        path.join(dir, `store-${i}`),
        "--jobs",
        String(jobsPerRequester),
        "--concurrency",
        String(CONCURRENCY),
        "--seed",
        String(seed + i + 1),
      ]);
      procs.push(proc);
      const said: string[] = [];
      lines(proc, (line) => {
        if (!line.startsWith("{")) {
          said.push(line);
          if (process.env["SCALE_VERBOSE"]) console.log(`  [r${i}] ${line}`);
          return;
        }
        const parsed = JSON.parse(line) as JobLine | SummaryLine | { event: "ready" };
        if (parsed.event === "job") onJob(parsed);
        else if (parsed.event === "summary") summaries.push(parsed);
      });
      return new Promise<void>((resolve) =>
        proc.once("exit", (code) => {
          if (code !== 0)
            console.log(`  jobs: requester ${i} exited with ${code}:\n${said.slice(-20).join("\n")}`);
          resolve();
        }),
      );
    });
    await withTimeout(Promise.all(requesters), PHASE_TIMEOUT_MS, "the jobs to end").catch((error: unknown) =>
      console.log(`  jobs: ${(error as Error).message}; figures are from the jobs that ended`),
    );
    console.log(`  jobs: ${jobs.length} ended in ${Date.now() - phaseStart} ms`);

    const done = jobs.filter((j) => j.status === "done");
    const latencies = done.map((j) => j.latencyMs);
    const breakdown = latencyBreakdown(done, kills);
    printBreakdown(breakdown);
    const cpuMs = summaries.reduce((sum, s) => sum + s.cpuMs, 0);
    const units = summaries.reduce((sum, s) => sum + s.units, 0);
    const round = (v: number | null, digits = 1) => (v === null ? null : Number(v.toFixed(digits)));
    return {
      node_volunteers: volunteersN,
      jobs_total: jobsTotal,
      jobs_completed: jobs.filter((j) => j.status === "done").length,
      wrong_results_accepted: jobs.filter((j) => j.wrong).length,
      job_latency_ms_p50: round(median(latencies), 0),
      job_latency_ms_p99: round(percentile(latencies, 0.99), 0),
      coordination_ms_per_unit:
        summaries.length === requestersN && units > 0 ? round(cpuMs / units, 2) : null,
      job_latency_breakdown: breakdown,
    };
  } finally {
    for (const proc of procs) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await stopServerProcess(server);
    rmSync(dir, { recursive: true, force: true });
  }
}
