/**
 * Solver benchmark: SpMV bandwidth against a same-runtime triad, and Jacobi-PCG time, for the
 * js, wasm (1 and 2 threads) and native Eigen backends, on Poisson grids with n = 10⁶ and the SuiteSparse
 * matrices; and the WebGPU backend in headless Chromium (dispatches and readbacks per iteration; times only
 * from a hardware adapter). Ratios are computed from rows of this same run; whatever could not be measured
 * is listed in not_measured with the reason.
 *
 * The SpMV's bandwidth reference is a triad moving the same bytes in the same runtime, timed in rounds
 * interleaved with the SpMV (bench/solver/notes.ts says why, and is printed with the results).
 *
 *   tsx bench/solver.ts --json FILE [--quick] [--no-eigen] [--no-webgpu] [--webgpu-max-n N]
 *                       [--only a,b] [--backends js,wasm,eigen] [--matrices DIR] [--reps N]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runJs, runWasm } from "./solver/backends.ts";
import type { RunConfig } from "./solver/backends.ts";
import { lastLevelCache } from "./solver/cache.ts";
import { buildEigen, runEigen } from "./solver/eigen.ts";
import { bandwidthNotes } from "./solver/notes.ts";
import { loadProblems } from "./solver/problems.ts";
import {
  checkTargets,
  computeRatios,
  formatRatios,
  formatTable,
  formatWebGpuTable,
  webgpuHeadline,
} from "./solver/report.ts";
import type { BenchRow, CpuBenchRow } from "./solver/row.ts";
import { runWebGpu } from "./solver/webgpu.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

const { values: args } = parseArgs({
  options: {
    json: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-eigen": { type: "boolean", default: false },
    "no-webgpu": { type: "boolean", default: false },
    // SwiftShader runs a 10⁶-row grid for minutes: by default larger problems are listed, not run.
    "webgpu-max-n": { type: "string", default: "250000" },
    only: { type: "string" },
    matrices: { type: "string", default: join(repoRoot, "../shared/matrices") },
    reps: { type: "string" },
    // CPU backends to run (default all); WebGPU has its own switch (--no-webgpu).
    backends: { type: "string", default: "js,wasm,eigen" },
  },
});

const quick = args.quick ?? false;
const reps = args.reps === undefined ? (quick ? 5 : 21) : Number(args.reps);
if (!Number.isInteger(reps) || reps < 1)
  throw new Error(`--reps must be a positive integer, got ${args.reps}`);
const webgpuMaxN = Number(args["webgpu-max-n"]);
if (!Number.isInteger(webgpuMaxN) || webgpuMaxN < 1)
  throw new Error(`--webgpu-max-n must be a positive integer, got ${args["webgpu-max-n"]}`);
// blockWarmup: a 10⁶-row SpMV reaches its steady state (arrays kept in L3) after 6–10 consecutive calls.
const cfg: RunConfig = {
  reps,
  warmup: quick ? 2 : 5,
  blockWarmup: quick ? 2 : 10,
  tol: 1e-8,
  maxIter: 20_000,
};
const only = args.only === undefined ? null : new Set(args.only.split(","));
const CPU_BACKENDS = ["js", "wasm", "eigen"] as const;
const backends = new Set(args.backends!.split(","));
for (const b of backends) {
  if (!(CPU_BACKENDS as readonly string[]).includes(b))
    throw new Error(`--backends takes a comma-separated subset of ${CPU_BACKENDS.join(",")}, got ${b}`);
}
const log = (s: string): void => void process.stderr.write(`${s}\n`);

const loadStart = loadavg();
const { problems, notMeasured } = await loadProblems(quick, args.matrices!, only);

let eigenBinary: string | null = null;
if (args["no-eigen"] || !backends.has("eigen")) {
  notMeasured.push({ name: "eigen", reason: `skipped (${args["no-eigen"] ? "--no-eigen" : "--backends"})` });
} else {
  const build = await buildEigen();
  if (build.ok) eigenBinary = build.binary;
  else notMeasured.push({ name: "eigen", reason: build.reason });
}

const rows: BenchRow[] = [];
const attempt = async (label: string, f: () => CpuBenchRow | Promise<CpuBenchRow>): Promise<void> => {
  const t0 = performance.now();
  try {
    const row = await f();
    rows.push(row);
    log(
      `  ${label}: spmv ${row.spmv_gbps.toFixed(2)} GB/s (triad ${row.triad_gbps.toFixed(2)}), cg ${row.cg_ms.toFixed(0)} ms (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  } catch (e) {
    notMeasured.push({ name: label, reason: (e as Error).message });
    log(`  ${label}: FAILED ${(e as Error).message}`);
  }
};

for (const p of problems) {
  log(
    `${p.name}: n=${p.n} nnz=${p.nnz}${p.symmetric ? "" : " (nonsymmetric: CG may fail, reported as such)"}`,
  );
  if (backends.has("js")) await attempt(`${p.name}/js/1`, () => runJs(p, cfg));
  if (backends.has("wasm")) {
    await attempt(`${p.name}/wasm/1`, () => runWasm(p, 1, cfg));
    await attempt(`${p.name}/wasm/2`, () => runWasm(p, 2, cfg));
  }
  if (eigenBinary !== null) {
    const bin = eigenBinary;
    await attempt(`${p.name}/eigen/1`, () => runEigen(bin, p, 1, cfg));
    await attempt(`${p.name}/eigen/2`, () => runEigen(bin, p, 2, cfg));
  }
}

if (args["no-webgpu"]) {
  notMeasured.push({ name: "webgpu", reason: "skipped (--no-webgpu)" });
} else {
  const gpu = await runWebGpu(problems, {
    tol: cfg.tol,
    maxIter: cfg.maxIter,
    maxN: webgpuMaxN,
    timeLimitMs: quick ? 120_000 : 600_000,
    log,
  });
  rows.push(...gpu.rows);
  notMeasured.push(...gpu.notMeasured);
}

const ratios = computeRatios(rows);
const headline = quick ? ["poisson2d-100", "poisson3d-22"] : ["poisson2d-1000", "poisson3d-100"];
const targets = checkTargets(ratios, headline, webgpuHeadline(rows, headline));
const notes = bandwidthNotes(lastLevelCache());
for (const b of CPU_BACKENDS) {
  if (!backends.has(b) && b !== "eigen") notMeasured.push({ name: b, reason: "skipped (--backends)" });
}
const result = {
  rows,
  notes,
  ratios,
  targets,
  not_measured: notMeasured,
  config: {
    quick,
    backends: [...backends],
    reps: cfg.reps,
    warmup: cfg.warmup,
    block_warmup: cfg.blockWarmup,
    tol: cfg.tol,
    max_iter: cfg.maxIter,
    webgpu: !args["no-webgpu"],
    webgpu_max_n: webgpuMaxN,
  },
  machine: {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    node: process.version,
    // Other processes compete for the same cores: the load average says how quiet the run was.
    loadavg_start: loadStart,
    loadavg_end: loadavg(),
  },
};

console.log(formatTable(rows));
console.log();
const gpuTable = formatWebGpuTable(rows);
if (gpuTable !== "") {
  console.log("webgpu (counts per iteration; times only from a hardware adapter):");
  console.log(gpuTable);
  console.log();
}
console.log(formatRatios(ratios, targets));
console.log("notes:");
for (const n of notes) console.log(`  - ${n}`);
if (notMeasured.length > 0) {
  console.log("not measured:");
  for (const m of notMeasured) console.log(`  ${m.name}: ${m.reason}`);
}
console.log(
  `load average start ${loadStart.map((v) => v.toFixed(2)).join(" ")}, end ${result.machine.loadavg_end.map((v) => v.toFixed(2)).join(" ")}`,
);
if (args.json !== undefined) {
  await mkdir(dirname(args.json), { recursive: true });
  await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${args.json}`);
}
