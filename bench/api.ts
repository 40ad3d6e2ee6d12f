/**
 * bench:api (issue 13, part 1 figures): the real server with the solve API on 127.0.0.1, solves in its
 * solver threads. Measures the time from the request to the first iteration_update line (seed target
 * < 100 ms), the gap between consecutive updates (p50/p99), verify latency for 100 probe rows (p50/p99,
 * seed target < 5 ms), and the solver's own time with a streaming client against a detached session no
 * client reads (ratio, goal ≤ 1.05), and cost updates into a running solve: POST /swarm/costs to the
 * update_applied line (seed target < 2 ms + one iteration), and 200 concurrent light streams (all converged,
 * RSS). Problems: 2-D Poisson, CG and Jacobi (CASES below).
 * Usage: npm run bench:api [-- --json FILE] [-- --runs N]
 */
import { writeFileSync } from "node:fs";
import type { CsrMatrix } from "../src/core/sparse/csr.ts";
import { poisson2d } from "../src/core/sparse/generators.ts";
import { solveRequest } from "../src/core/sparse/solve-request-body.ts";
import { startBenchApiServer } from "./api-server.ts";

const args = process.argv.slice(2);
const jsonAt = args.indexOf("--json");
const runsAt = args.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 10;

// The threads' figures: no volunteer here, and the swarm requester's lazy join would only delay the first
// session (bench/api-swarm.ts measures the swarm path).
const bench = await startBenchApiServer("api", {
  // 200 concurrent streams from this one address: the per-address caps are the production defaults' job.
  maxStreamsPerAddress: 256,
  maxQueuedSolves: 256,
  maxSessions: 512,
  swarm: { enabled: false },
});
const { server } = bench;

/** A system with b_i = 1 + (i mod 7) as a solve_request body. */
function requestBody(a: CsrMatrix, method: string, options: Record<string, unknown>): string {
  return JSON.stringify(solveRequest(a, method, options));
}

/** A 2-D Poisson system (k×k grid, 5-point stencil) as a solve_request body. */
function body(k: number, method: string, options: Record<string, unknown>): string {
  return requestBody(poisson2d(k), method, options);
}

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const round = (v: number): number => Math.round(v * 1000) / 1000;

/** One streamed solve: ms to the first update line, gaps between update lines, the solver's own ms. */
async function streamed(
  payload: string,
): Promise<{ first: number; gaps: number[]; solveMs: number; id: string }> {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/api/v1/solve-stream`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: payload,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let first = NaN;
  let last = NaN;
  const gaps: number[] = [];
  let result: Record<string, unknown> | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
      buffered = buffered.slice(nl + 1);
      const now = performance.now();
      if (line["type"] === "iteration_update") {
        if (Number.isNaN(first)) first = now - t0;
        else gaps.push(now - last);
        last = now;
      }
      if (line["type"] === "solve_result") result = line;
    }
  }
  return { first, gaps, solveMs: result!["ms"] as number, id: result!["session_id"] as string };
}

/** The same solve detached with no client reading: the solver's own ms, from status once it ends. */
async function detached(payload: string): Promise<number> {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/api/v1/solve-stream`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: payload,
    signal: controller.signal,
  });
  const id = res.headers.get("x-session-id")!;
  controller.abort();
  for (;;) {
    const status = (await (await fetch(`${server.url}/api/v1/status/${id}`)).json()) as {
      state: string;
      result: { ms: number } | null;
    };
    if (status.state !== "running") return status.result!.ms;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const report: Record<string, unknown> = { runs: RUNS };
const CASES = [
  { name: "cg poisson2d-100 (n 10⁴) to 1e-10", k: 100, method: "cg", tolerance: 1e-10 },
  { name: "jacobi poisson2d-40 (n 1600) to 1e-6", k: 40, method: "jacobi", tolerance: 1e-6 },
];
for (const { name, k, method, tolerance } of CASES) {
  const options = { tolerance, max_iterations: 1_000_000 };
  const payload = body(k, method, options);
  const detachedPayload = body(k, method, { ...options, detach: true });
  const firsts: number[] = [];
  const gaps: number[] = [];
  const withClient: number[] = [];
  const without: number[] = [];
  let lastId = "";
  for (let run = 0; run < RUNS; run++) {
    const s = await streamed(payload);
    firsts.push(s.first);
    gaps.push(...s.gaps);
    withClient.push(s.solveMs);
    lastId = s.id;
    without.push(await detached(detachedPayload));
  }
  const verify: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/api/v1/verify`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: lastId, probe_count: 100 }),
    });
    await res.json();
    verify.push(performance.now() - t0);
  }
  const median = (xs: number[]): number => percentile(xs, 50);
  report[name] = {
    first_update_ms: { p50: round(median(firsts)), p99: round(percentile(firsts, 99)) },
    update_gap_ms: { p50: round(median(gaps)), p99: round(percentile(gaps, 99)), count: gaps.length },
    verify_100_rows_ms: { p50: round(median(verify)), p99: round(percentile(verify, 99)) },
    solve_ms_streamed_p50: round(median(withClient)),
    solve_ms_detached_p50: round(median(without)),
    ratio_streamed_over_detached: round(median(withClient) / median(without)),
  };
  console.log(name, JSON.stringify(report[name]));
}
/**
 * Cost updates into a running solve (POST /swarm/costs): from sending the POST to reading the session's
 * update_applied line, i.e. HTTP in, the solver taking the update at its next iteration boundary, the warm
 * restart's setup (a copy of A's values, O(nnz)), and the event back out on the stream. One long Jacobi
 * solve (it cannot converge to 1e-14 in the time it runs); `count` updates one after the other, each to one
 * entry of b; the solver's own per-iteration time is read from its iteration_update lines beside it.
 */
async function costUpdates(k: number, count: number): Promise<Record<string, unknown>> {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/api/v1/solve-stream`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body(k, "jacobi", { tolerance: 1e-14, max_iterations: 10_000_000, x_partial_count: 0 }),
    signal: controller.signal,
  });
  const id = res.headers.get("x-session-id")!;
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const applied = new Map<number, number>();
  const iterationMs: number[] = [];
  let buffered = "";
  let wake: () => void = () => undefined;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: "", done: true }));
      if (done) return;
      buffered += value;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        if (line["type"] === "update_applied") applied.set(line["seq"] as number, performance.now());
        if (line["type"] === "iteration_update")
          iterationMs.push((line["performance"] as { iteration_time_ms: number }).iteration_time_ms);
        wake();
      }
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const posted = await fetch(`${server.url}/api/v1/swarm/costs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: id, delta_costs: [{ index: (i * 7919) % (k * k), delta: 1 }] }),
    });
    const { seq } = (await posted.json()) as { seq: number };
    while (!applied.has(seq)) await new Promise<void>((resolve) => (wake = resolve));
    latencies.push(applied.get(seq)! - t0);
  }
  controller.abort();
  await pump;
  return {
    problem: `jacobi poisson2d-${k} (n ${k * k})`,
    updates: count,
    post_to_applied_ms: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) },
    solver_iteration_ms_p50: round(percentile(iterationMs, 50)),
  };
}

/** The [-1, 4, -1] tridiagonal matrix of size n (diagonally dominant: CG converges in a few dozen steps). */
function tridiagonalMatrix(n: number): CsrMatrix {
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Int32Array(3 * n - 2);
  const values = new Float64Array(3 * n - 2);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - 1); j <= Math.min(n - 1, i + 1); j++) {
      colIdx[p] = j;
      values[p++] = j === i ? 4 : -1;
    }
    rowPtr[i + 1] = p;
  }
  return { rows: n, cols: n, rowPtr, colIdx, values };
}

/**
 * `count` light streams at once (n = 10⁴ tridiagonal CG): all must converge (they queue for the solver
 * threads, solve-queue.ts); each one's time from request to solve_result, the whole burst's wall time, and
 * this process's RSS (server and clients share it: the growth is the figure) before, at peak and after.
 */
async function concurrentStreams(count: number, n: number): Promise<Record<string, unknown>> {
  const payload = requestBody(tridiagonalMatrix(n), "cg", { tolerance: 1e-10 });
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: count }, async () => {
      const start = performance.now();
      const res = await fetch(`${server.url}/api/v1/solve-stream`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: payload,
      });
      if (res.status !== 200) return { converged: false, ms: performance.now() - start, status: res.status };
      const text = await res.text();
      const last = JSON.parse(text.trim().split("\n").at(-1)!) as { converged?: boolean };
      return { converged: last.converged === true, ms: performance.now() - start, status: 200 };
    }),
  );
  const wallMs = performance.now() - t0;
  clearInterval(sampler);
  const ms = outcomes.map((o) => o.ms);
  return {
    streams: count,
    n,
    converged: outcomes.filter((o) => o.converged).length,
    refused: outcomes.filter((o) => o.status !== 200).length,
    wall_ms: Math.round(wallMs),
    request_to_result_ms: { p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)) },
    rss_mb: {
      before: Math.round(rssBefore / 2 ** 20),
      peak: Math.round(rssPeak / 2 ** 20),
      after: Math.round(process.memoryUsage().rss / 2 ** 20),
    },
    note: "server and the 200 clients in one process (RSS is both); sessions wait for the 4 solver threads in a queue",
  };
}

report["concurrent_streams"] = await concurrentStreams(200, 10_000);
console.log("200 concurrent streams", JSON.stringify(report["concurrent_streams"]));
report["cost_update"] = await costUpdates(100, 50);
console.log("cost update", JSON.stringify(report["cost_update"]));
if (jsonAt >= 0) writeFileSync(args[jsonAt + 1]!, `${JSON.stringify(report, null, 2)}\n`);
await bench.close();
process.exit(0);
