/**
 * The MCP server's cost over the HTTP API it wraps (issue 13): the real server with the solve API on
 * 127.0.0.1 and `open-swarm mcp` spawned over stdio, driven by the SDK's client. Measures the start (spawn
 * to tools listed, the tools' schemas read from the server's OpenAPI document), the time to the first
 * progress notification against the time to the first iteration_update line of a direct request, and the
 * whole solve through MCP against the direct NDJSON request (median of --runs, ratio). Problem: 2-D
 * Poisson k = 100 (n = 10⁴), CG to 1e-8; x comes back by URL through MCP (above --x-inline-max).
 * Usage: npx tsx bench/mcp.ts [--runs N] [--json FILE]
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { solveRequest } from "../src/core/sparse/solve-request-body.ts";
import { startBenchApiServer } from "./api-server.ts";

const args = process.argv.slice(2);
const jsonAt = args.indexOf("--json");
const runsAt = args.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
const K = 100;

const bench = await startBenchApiServer("mcp");
const { server } = bench;

const a = poisson2d(K);
const request = solveRequest(a, "cg", { tolerance: 1e-8 });

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

/** The direct request: ms to the first iteration_update line and to the end of the stream. */
async function direct(): Promise<{ firstMs: number; totalMs: number }> {
  const started = performance.now();
  const res = await fetch(`${server.url}/api/v1/solve-stream`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  let firstMs = NaN;
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (Number.isNaN(firstMs) && value.includes('"iteration_update"')) firstMs = performance.now() - started;
  }
  return { firstMs, totalMs: performance.now() - started };
}

const spawnedAt = performance.now();
const client = new Client({ name: "bench-mcp", version: "1.0.0" });
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: [fileURLToPath(new URL("../bin/open-swarm.mjs", import.meta.url)), "mcp", "--server", server.url],
    stderr: "ignore",
  }),
);
await client.listTools();
const startMs = performance.now() - spawnedAt;

const directRuns: { firstMs: number; totalMs: number }[] = [];
const mcpRuns: { firstMs: number; totalMs: number }[] = [];
await direct(); // warm the solver thread and the JIT before timing either path
for (let run = 0; run < RUNS; run++) {
  directRuns.push(await direct());
  const started = performance.now();
  let firstMs = NaN;
  const result = await client.callTool({ name: "solve", arguments: request }, undefined, {
    onprogress: () => {
      if (Number.isNaN(firstMs)) firstMs = performance.now() - started;
    },
  });
  if (result.isError) throw new Error(`solve failed: ${JSON.stringify(result.content)}`);
  mcpRuns.push({ firstMs, totalMs: performance.now() - started });
}
await client.close();
await bench.close();

const report = {
  problem: `poisson2d-${K} (n = ${a.rows}), cg, tolerance 1e-8`,
  runs: RUNS,
  mcp_start_to_tools_listed_ms: Math.round(startMs),
  direct_first_update_ms_p50: Math.round(median(directRuns.map((r) => r.firstMs)) * 10) / 10,
  mcp_first_progress_ms_p50: Math.round(median(mcpRuns.map((r) => r.firstMs)) * 10) / 10,
  direct_solve_ms_p50: Math.round(median(directRuns.map((r) => r.totalMs)) * 10) / 10,
  mcp_solve_ms_p50: Math.round(median(mcpRuns.map((r) => r.totalMs)) * 10) / 10,
};
const ratio = report.mcp_solve_ms_p50 / report.direct_solve_ms_p50;
const out = { ...report, mcp_over_direct: Math.round(ratio * 100) / 100 };
console.log(JSON.stringify(out, null, 2));
if (jsonAt >= 0) writeFileSync(args[jsonAt + 1]!, `${JSON.stringify(out, null, 2)}\n`);
