/**
 * `npm run bench:experts -- --json FILE`: the mixture-of-experts on onnxruntime-web, measured.
 *  1. native reference: moe-int8 and moe-fp32 (the whole-MoE graphs) on onnxruntime-node, before any browser
 *     runs, on the files the server serves (dist/models);
 *  2. browser: the same models and images on onnxruntime-web's wasm provider in a tab's expert worker
 *     (production build served by the real server, Chromium from scripts/chromium.ts); ratio browser/native;
 *  3. swarm: classify jobs of the same images through the requester's router with 1, 2, 4 volunteer tabs
 *     (real WebRTC), images/s, rows by source, and mismatches against the single-process moe-int8 run;
 *  4. latency of routed expert requests (p50/p99) from the requester router's host stats;
 *  0. (first, in fresh tabs) the first classify job of 500 images with 2 volunteer tabs against the second
 *     in the same tabs, over --first-runs repeats: `first_run_over_second` (goal ≤ 1.5; first-run.ts).
 * Then a readable table, what could not be measured, and --json FILE with the rows. See bench/experts/args.ts
 * for the flags.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { manifestSchema } from "../src/core/protocol/manifest.ts";
import { parseExpertsArgs } from "./experts/args.ts";
import { timeBrowser, type BrowserWorkerInfo } from "./experts/browser-models.ts";
import { loadTestImages } from "./experts/images.ts";
import { timeNative } from "./experts/native.ts";
import { speedRow, type PassTimes } from "./experts/passes.ts";
import { browserOverNative, renderReport, summarizeLatency, withRelative } from "./experts/report.ts";
import type { LatencySummary, ModelSpeedRow, MoeModel, SwarmRow } from "./experts/rows.ts";
import { countMismatches } from "./experts/stats.ts";
import { hostLatencies, openRequester, runStage } from "./experts/swarm-jobs.ts";
import { measureFirstRuns, type FirstRunSummary } from "./experts/first-run.ts";
import { startHarness } from "./swarm/harness.ts";

const parsed = parseExpertsArgs(process.argv.slice(2));
if (!parsed.ok) {
  console.error(`bench:experts: ${parsed.message} (${parsed.code})`);
  process.exit(2);
}
const cfg = parsed.config;
const log = (line: string) => console.log(line);
const started = performance.now();
const STATIC_DIR = "dist-test";
const MODELS_DIR = `${STATIC_DIR}/models`;
const MODELS: readonly MoeModel[] = ["moe-int8", "moe-fp32"];

if (!existsSync(`${STATIC_DIR}/index.html`) || !existsSync(`${MODELS_DIR}/manifest.json`)) {
  console.error(
    "bench:experts needs the built app with its models (dist-test/, dist-test/models/): run `npm run build:test` first",
  );
  process.exit(1);
}
const manifest = manifestSchema.parse(JSON.parse(readFileSync(`${MODELS_DIR}/manifest.json`, "utf8")));
const notMeasured: string[] = [];
if (
  existsSync("public/models/manifest.json") &&
  readFileSync("public/models/manifest.json", "utf8") !== readFileSync(`${MODELS_DIR}/manifest.json`, "utf8")
) {
  notMeasured.push(
    "dist-test/models differs from public/models: these figures are for the built models; rebuild to measure the new ones",
  );
}
const pixels = loadTestImages(cfg.images);
const settings = {
  images: cfg.images,
  batchRows: cfg.batchRows,
  threads: cfg.threads,
  reps: cfg.reps,
  warmup: cfg.warmup,
};

// ── 1. native reference (no browser running yet) ────────────────────────────────────────────────────────
const native = new Map<MoeModel, PassTimes>();
if (cfg.skipNative)
  notMeasured.push("onnxruntime-node reference: skipped by --skip-native (no browser/native ratio)");
else {
  for (const model of MODELS) {
    log(
      `native: ${model}, ${cfg.images} images, batch ${cfg.batchRows}, ${cfg.threads} thread(s), ${cfg.reps} passes`,
    );
    native.set(model, await timeNative(MODELS_DIR, manifest, model, pixels, settings));
  }
}

// ── 2–4. browser ─────────────────────────────────────────────────────────────────────────────────────────
const browser = new Map<MoeModel, PassTimes>();
let workerInfo: BrowserWorkerInfo | null = null;
const swarmRows: Omit<SwarmRow, "relative_to_first">[] = [];
let latency: LatencySummary | null = null;
let firstRun: FirstRunSummary | null = null;
if (!cfg.skipBrowser || !cfg.skipSwarm || !cfg.skipFirstRun) {
  const harness = await startHarness();
  try {
    // First, before any other tab warmed the server's or the OS's caches for these files.
    if (cfg.skipFirstRun) notMeasured.push("first run against the second: skipped by --skip-first-run");
    else {
      log(
        `first run: ${cfg.firstRuns} repeats, fresh tabs, 2 volunteer tabs + the requester, ${cfg.firstRunImages} images, first job against the second`,
      );
      firstRun = await measureFirstRuns(
        harness,
        2,
        cfg.firstRunImages,
        cfg.firstRuns,
        log,
        notMeasured,
        cfg.firstRunStart,
      );
    }
    if (cfg.skipBrowser) notMeasured.push("browser model throughput: skipped by --skip-browser");
    else {
      const tab = await harness.openTab("models");
      for (const model of MODELS) {
        log(`browser: ${model} on wasm, ${cfg.images} images, batch ${cfg.batchRows}, ${cfg.reps} passes`);
        const out = await timeBrowser(tab, model, settings);
        browser.set(model, out.times);
        workerInfo = out.info;
      }
      await harness.closeTab(tab);
    }
    if (cfg.skipSwarm)
      notMeasured.push("swarm throughput and routed-request latency: skipped by --skip-swarm");
    else {
      const phase = await openRequester(harness);
      for (const n of cfg.volunteerCounts) {
        log(
          `swarm: ${n} volunteer tab(s) + the requester, ${cfg.images} images, ${cfg.swarmReps} timed jobs`,
        );
        const stage = await runStage(harness, phase, n, cfg.images, cfg.swarmReps, log);
        swarmRows.push(stage.row);
        notMeasured.push(...stage.failures);
      }
      const perHost = await hostLatencies(phase);
      const remote = perHost.filter((h) => !h.host.startsWith("requester"));
      latency = { ...summarizeLatency(remote), per_host: perHost };
    }
  } finally {
    await harness.close();
  }
}

// ── figures ──────────────────────────────────────────────────────────────────────────────────────────────
const models: ModelSpeedRow[] = [];
for (const model of MODELS) {
  const ref = native.get(model);
  const web = browser.get(model);
  if (web) {
    models.push(
      speedRow(
        "onnxruntime-web (Chromium worker)",
        web,
        settings,
        ref ? countMismatches(web.predictions, ref.predictions) : null,
      ),
    );
  }
  if (ref) models.push(speedRow("onnxruntime-node (native)", ref, settings, null));
}
const ratios = browserOverNative(models);
const swarm = withRelative(swarmRows);
const swarmMismatches =
  swarm.length === 0 ? null : swarm.reduce((s, r) => s + r.mismatches_vs_whole_graph, 0);
const swarmRowsCompared = swarm.reduce((s, r) => s + r.rows_compared, 0);
const singleTabInt8 = models.find((m) => m.model === "moe-int8" && m.runtime.startsWith("onnxruntime-web"));

notMeasured.push(
  workerInfo?.webgpuAdapter
    ? `webgpu speed: not reported — the only adapter here is ${workerInfo.adapterArchitecture ?? "a software one"} (CPU emulation, no real GPU), whose timings say nothing about a GPU`
    : "webgpu speed: no WebGPU adapter (no GPU on this machine)",
  `swarm scaling: this machine has ${cpus().length} cores shared by every tab (each volunteer's ORT worker, the requester's gate and canaries), the server and Playwright, so images/s cannot grow with volunteer tabs here; the stages show the protocol's overhead, not real-world scaling`,
  "real networks (NAT, latency, bandwidth): every tab is on loopback WebRTC",
  "volunteers alone: the requester's own expert host serves through the loopback in every stage (the product's default; it takes the largest share because it has no WebRTC hop). A paused host is not usable, so its experts' rows would go to their other replicas",
  "routed-request latency percentiles come from the router's per-host windows (the last 512 requests per host, all stages together); the router keeps no raw samples, so the overall p50 is a request-weighted median of host p50s and the p99 an upper bound (the largest host p99)",
);
if (cfg.threads === 1)
  notMeasured.push(
    "multi-threaded ORT: both runtimes use 1 thread (the product's worker setting); --threads 2 measures 2",
  );

const result = {
  settings: {
    images: cfg.images,
    batch_rows: cfg.batchRows,
    reps: cfg.reps,
    warmup_passes: cfg.warmup,
    threads: cfg.threads,
    swarm_volunteer_tabs: cfg.volunteerCounts,
    swarm_jobs_per_stage: cfg.swarmReps,
    models_dir: MODELS_DIR,
    manifest_accuracy: manifest.accuracy,
    preliminary_models: (manifest as { training?: { preliminary?: boolean } }).training?.preliminary ?? null,
  },
  model_throughput: models,
  browser_over_native: ratios,
  swarm_throughput: swarm,
  swarm_vs_single_tab_moe_int8: swarm.map((s) => ({
    volunteer_tabs: s.volunteer_tabs,
    swarm_over_single_tab:
      singleTabInt8?.samples_per_s_median && s.images_per_s_median !== null
        ? s.images_per_s_median / singleTabInt8.samples_per_s_median
        : null,
  })),
  routed_request_latency: latency,
  first_run: firstRun,
  first_run_over_second: firstRun?.first_run_over_second ?? null,
  swarm_mismatches_vs_whole_graph: swarmMismatches,
  swarm_rows_compared: swarmRowsCompared,
  browser_worker: workerInfo,
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? null, node: process.version },
  total_s: (performance.now() - started) / 1000,
  not_measured: notMeasured,
};

for (const line of renderReport({
  models,
  ratios,
  swarm,
  latency,
  swarmMismatches,
  swarmRowsCompared,
  notMeasured,
}))
  log(line);
if (firstRun) {
  const f = (x: number | null, d = 0) => (x === null ? "?" : x.toFixed(d));
  log(
    `first run (${firstRun.volunteer_tabs} volunteers, ${firstRun.images} images, ${firstRun.repeats.length} repeats): ` +
      `volunteers found ${f(firstRun.found_ms_median)} ms after the view opened` +
      `${firstRun.warm_ms_median === null ? "" : `, warm ${f(firstRun.warm_ms_median)} ms`}, first job started once ${firstRun.start}, ` +
      `first ${f(firstRun.first_ms_median)} ms (${f(firstRun.first_images_per_s_median)} images/s), ` +
      `second ${f(firstRun.second_ms_median)} ms (${f(firstRun.second_images_per_s_median)} images/s), ` +
      `first_run_over_second ${f(firstRun.first_run_over_second, 2)} (${f(firstRun.first_run_over_second_min, 2)}–${f(firstRun.first_run_over_second_max, 2)}; goal ≤ 1.5)`,
  );
}
log(`total ${result.total_s.toFixed(0)} s`);
if (cfg.json) {
  writeFileSync(cfg.json, JSON.stringify(result, null, 2));
  log(`wrote ${cfg.json}`);
}
process.exit(0);
