/**
 * The swarm path of the solve API (issue 13, part 2): the real server with the API on 127.0.0.1 and one
 * Node volunteer (the runtime of `open-swarm volunteer`, in this process, over libwebrtc on loopback).
 * For each run, one solve-stream on the volunteer and the same on the server's threads (swarm_enabled
 * false): time to the first iteration_update, to solve_result, and where the result came from. The first
 * swarm session also pays for the requester's lazy join, reported apart.
 * Usage: npx tsx bench/api-swarm.ts [--runs N] [--k K] [--json FILE]
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { solveRequest } from "../src/core/sparse/solve-request-body.ts";
import { startBenchApiServer } from "./api-server.ts";
import { FileIdentityStore } from "../src/node/identity-file.ts";
import { NodeVolunteer } from "../src/node/volunteer.ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = arg("--runs", 5);
const K = arg("--k", 100);
const jsonAt = args.indexOf("--json");

// The server requester's identity file in the bench's scratch directory (a fresh peer each run).
const bench = await startBenchApiServer("api-swarm", (dir) => ({ swarm: { dataDir: dir } }));
const { server, dir } = bench;
const origin = `http://127.0.0.1:${server.port}`;
const volunteer = await NodeVolunteer.start({
  server: origin,
  identityStore: new FileIdentityStore(path.join(dir, "volunteer.json")),
});

const a = poisson2d(K);
const bodyOf = (swarm: boolean): string =>
  JSON.stringify(
    solveRequest(a, "cg", { tolerance: 1e-10, max_iterations: 100_000, swarm_enabled: swarm }, () => 1),
  );

interface Run {
  firstUpdateMs: number;
  resultMs: number;
  where: unknown;
  converged: boolean;
}

async function once(swarm: boolean): Promise<Run> {
  const started = performance.now();
  const res = await fetch(`${origin}/api/v1/solve-stream`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: bodyOf(swarm),
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let firstUpdateMs = Number.NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stream ended without solve_result");
    buffered += value;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
      buffered = buffered.slice(newline + 1);
      if (line["type"] === "iteration_update" && Number.isNaN(firstUpdateMs))
        firstUpdateMs = performance.now() - started;
      if (line["type"] === "solve_result") {
        await reader.cancel();
        return {
          firstUpdateMs,
          resultMs: performance.now() - started,
          where: line["where"],
          converged: line["converged"] === true,
        };
      }
    }
  }
}

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
const joinRun = await once(true);
const swarmRuns: Run[] = [];
const serverRuns: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  swarmRuns.push(await once(true));
  serverRuns.push(await once(false));
}
const onVolunteer = swarmRuns.filter((r) => typeof r.where === "object").length;
const report = {
  n: a.rows,
  nnz: a.rowPtr[a.rows],
  runs: RUNS,
  firstSwarmSessionWithJoin: { firstUpdateMs: joinRun.firstUpdateMs, resultMs: joinRun.resultMs },
  swarm: {
    onVolunteer,
    firstUpdateMsP50: median(swarmRuns.map((r) => r.firstUpdateMs)),
    resultMsP50: median(swarmRuns.map((r) => r.resultMs)),
  },
  server: {
    firstUpdateMsP50: median(serverRuns.map((r) => r.firstUpdateMs)),
    resultMsP50: median(serverRuns.map((r) => r.resultMs)),
  },
  allConverged: [joinRun, ...swarmRuns, ...serverRuns].every((r) => r.converged),
};
console.log(JSON.stringify(report, null, 2));
if (jsonAt >= 0) writeFileSync(args[jsonAt + 1]!, `${JSON.stringify(report, null, 2)}\n`);
await volunteer.leave();
await bench.close();
process.exit(0);
