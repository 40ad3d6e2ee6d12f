/**
 * `npm run bench:attack [-- --only server-flood,join-storm,experts,solves]`: what the attacks of issue 10 cost
 * the server and the verification. Each part runs in its own process, one after another (so they do not share
 * the two cores), with its defaults; run a part alone (`npx tsx bench/attack/<part>.ts`) to pass it options
 * (repeats, sizes, `--server-dir` to measure another checkout in the same run): see each part's header.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const PARTS: readonly { readonly name: string; readonly what: string }[] = [
  {
    name: "server-flood",
    what: "server RSS and CPU under the PeerJS queue flood (goal: growth < 50 MB, no crash)",
  },
  { name: "join-storm", what: "1,000-peer join storm: directory frames per join O(1), welcome bytes, RSS" },
  {
    name: "experts",
    what: "predictions flipped by false-provider and collusion attacks (goal 0), overhead ≤ 10 %",
  },
  { name: "solves", what: "verification overhead of solves and distributed block audits (goal ≤ 2 %)" },
];

const { values: args } = parseArgs({ options: { only: { type: "string" } } });
const only = args.only === undefined ? null : new Set(args.only.split(","));
const here = import.meta.dirname;
let failed = 0;
for (const part of PARTS) {
  if (only !== null && !only.has(part.name)) continue;
  const file = path.join(here, "attack", `${part.name}.ts`);
  if (!existsSync(file)) {
    console.log(`\n## ${part.name}: not present (${file})`);
    continue;
  }
  console.log(`\n## ${part.name}: ${part.what}`);
  const run = spawnSync(process.execPath, ["--import", "tsx", file], {
    stdio: "inherit",
  });
  if (run.status !== 0) {
    failed++;
    console.log(`## ${part.name} exited with ${run.status ?? run.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
