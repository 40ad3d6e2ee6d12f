/**
 * `npm run bench:scale [-- --json FILE] [--repeats 3] [--sizes 100,1000]`: does the directory hold a
 * thousand peers (issue 12)? First half: lightweight protocol-level peers join a server in its own process
 * (bench/scale/directory-phase.ts), once per size and repeat, each run on a fresh server; figures are the
 * median over repeats, with min–max beside them. Second half: Node volunteers and solve jobs
 * (bench/scale/node-jobs.ts through the slot bench/scale/jobs-phase.ts): 20 Node volunteer processes, 200 solve
 * jobs from 4 requester processes, a fifth of the volunteers SIGKILLed. All on 127.0.0.1.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateKeyPair, identityFromKeyPair } from "../src/core/identity/identity.ts";
import { median } from "./experts/stats.ts";
import { runDirectoryPhase, type DirectoryRun } from "./scale/directory-phase.ts";
import { runJobsPhase } from "./scale/jobs-phase.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function round(value: number | null, digits = 1): number | null {
  return value === null ? null : Number(value.toFixed(digits));
}

function spread(values: readonly number[]): { median: number | null; min: number; max: number } {
  return {
    median: round(median(values), 3),
    min: round(Math.min(...values), 3)!,
    max: round(Math.max(...values), 3)!,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "string" },
      repeats: { type: "string", default: "3" },
      sizes: { type: "string", default: "100,1000" },
    },
  });
  const repeats = Number(values.repeats);
  const sizes = values.sizes.split(",").map(Number);
  const startMs = Date.now();
  // Keys are made once: the same peers join every run (as the same volunteers would come back).
  const ids = await Promise.all(
    Array.from({ length: Math.max(...sizes) + 1 }, async () => identityFromKeyPair(await generateKeyPair())),
  );

  const runs = new Map<number, DirectoryRun[]>();
  for (const n of sizes) {
    const list: DirectoryRun[] = [];
    for (let r = 0; r < repeats; r++) {
      const run = await runDirectoryPhase(REPO, ids.slice(0, n + 1));
      list.push(run);
      console.log(`  n=${n} #${r + 1}: ${JSON.stringify(run)}`);
    }
    runs.set(n, list);
  }
  const stat = (n: number, key: keyof DirectoryRun) => spread((runs.get(n) ?? []).map((run) => run[key]));
  const big = Math.max(...sizes);
  const perSize = Object.fromEntries(
    sizes.map((n) => [
      n,
      Object.fromEntries(
        (Object.keys(runs.get(n)![0]!) as (keyof DirectoryRun)[])
          .filter((key) => key !== "n")
          .map((key) => [key, stat(n, key)]),
      ),
    ]),
  );

  const jobs = await runJobsPhase({ repoDir: REPO });
  const value = (n: number, key: keyof DirectoryRun, digits = 1) =>
    runs.has(n) ? round(stat(n, key).median, digits) : null;
  const result = {
    peers_listed_ms_1000: value(1000, "listedMs", 0),
    // What one join costs once N are online (its challenge, its welcome, the peers told about it)...
    directory_msgs_per_join_100: value(100, "lateJoinFrames", 2),
    directory_msgs_per_join_1000: value(1000, "lateJoinFrames", 2),
    // ...and the average over the storm of N joins (fewer: a tick's changes share one frame per peer).
    directory_msgs_per_join_storm_100: value(100, "framesPerJoin", 2),
    directory_msgs_per_join_storm_1000: value(1000, "framesPerJoin", 2),
    directory_records_per_join_storm_1000: value(1000, "recordsPerJoin", 1),
    query_ms_1000: value(1000, "queryMs", 1),
    server_cpu_ms_1000_joins: value(1000, "serverCpuMs", 0),
    welcome_bytes_1000: value(1000, "welcomeBytes", 0),
    server_rss_mb_per_peer: runs.has(big) ? round(stat(big, "rssGrowthMB").median! / big, 4) : null,
    ...jobs.figures,
    not_measured:
      jobs.notMeasured === null
        ? {}
        : Object.fromEntries(Object.keys(jobs.figures).map((k) => [k, jobs.notMeasured])),
    repeats,
    sizes,
    directory: perSize,
    wall_s: round((Date.now() - startMs) / 1000, 0),
  };
  console.log(`directory at ${sizes.join(" and ")} peers, ${repeats} repeats (median [min–max]):`);
  for (const n of sizes) {
    const s = (key: keyof DirectoryRun) => {
      const { median: m, min, max } = stat(n, key);
      return `${m} [${min}–${max}]`;
    };
    console.log(`n=${n}`);
    console.log(`  all listed ms            ${s("listedMs")}`);
    console.log(`  frames out per join      ${s("framesPerJoin")}   records per join ${s("recordsPerJoin")}`);
    console.log(`  one more join, frames    ${s("lateJoinFrames")}`);
    console.log(`  welcome bytes            ${s("welcomeBytes")}`);
    console.log(`  query (k=16) ms          ${s("queryMs")}`);
    console.log(`  server RSS growth MB     ${s("rssGrowthMB")}   CPU ms ${s("serverCpuMs")}`);
  }
  console.log(JSON.stringify(result, null, 2));
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2) + "\n");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
