import { describe, expect, it } from "vitest";
import { parseExpertsArgs } from "../../../bench/experts/args.ts";
import { speedRow, type PassTimes } from "../../../bench/experts/passes.ts";
import {
  browserOverNative,
  fmt,
  formatTable,
  renderReport,
  summarizeLatency,
  withRelative,
} from "../../../bench/experts/report.ts";
import type { LatencyRow, SwarmRow } from "../../../bench/experts/rows.ts";
import {
  countMismatches,
  median,
  percentile,
  perSecond,
  ratio,
  weightedMedian,
} from "../../../bench/experts/stats.ts";

// The pure parts of bench/experts.ts: statistics, argument parsing, rows and the printed report.

describe("bench:experts stats", () => {
  it("median of odd and even counts ignores non-finite values; empty gives null", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 2, Infinity])).toBe(2);
    expect(median([])).toBeNull();
  });

  it("percentile is nearest-rank, like the router's host stats", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 0.99)).toBe(99);
    expect(percentile(xs, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
    expect(() => percentile(xs, 1.5)).toThrow(RangeError);
  });

  it("perSecond and ratio never produce NaN or Infinity", () => {
    expect(perSecond(1000, 250)).toBe(4000);
    expect(perSecond(1000, 0)).toBeNull();
    expect(ratio(3, 4)).toBe(0.75);
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(null, 4)).toBeNull();
    expect(ratio(3, NaN)).toBeNull();
  });

  it("weightedMedian takes the value where half the weight is reached", () => {
    expect(weightedMedian([10, 50, 100], [1, 1, 10])).toBe(100);
    expect(weightedMedian([10, 50, 100], [10, 1, 1])).toBe(10);
    expect(weightedMedian([10, 50], [1, 1])).toBe(10);
    expect(weightedMedian([10], [0])).toBeNull();
    expect(() => weightedMedian([1, 2], [1])).toThrow(RangeError);
  });

  it("countMismatches counts differing rows and missing ones", () => {
    expect(countMismatches([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(countMismatches([1, 2, 3], [1, 0, 3])).toBe(1);
    expect(countMismatches(Int32Array.from([1, 2, 3]), [1, 2])).toBe(1);
  });
});

describe("bench:experts arguments", () => {
  it("has stated defaults, and smaller ones with --quick", () => {
    const full = parseExpertsArgs([]);
    expect(full.ok && full.config).toMatchObject({
      json: null,
      images: 1000,
      batchRows: 100,
      reps: 15,
      warmup: 3,
      threads: 1,
      volunteerCounts: [1, 2, 4],
      swarmReps: 5,
    });
    const quick = parseExpertsArgs(["--quick"]);
    expect(quick.ok && quick.config).toMatchObject({ images: 500, reps: 5, volunteerCounts: [1, 2] });
  });

  it("reads every flag", () => {
    const parsed = parseExpertsArgs([
      "--json",
      "/tmp/x.json",
      "--images",
      "2000",
      "--batch",
      "250",
      "--volunteers",
      "1,3",
      "--threads",
      "2",
      "--skip-native",
    ]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config).toMatchObject({
      json: "/tmp/x.json",
      images: 2000,
      batchRows: 250,
      volunteerCounts: [1, 3],
      threads: 2,
      skipNative: true,
      skipSwarm: false,
    });
  });

  it.each([
    [["--images", "ten"], "bad_number", "--images"],
    [["--images", "0"], "out_of_range", "1..10000"],
    [["--images", "20000"], "out_of_range", "--images"],
    [["--images", "100", "--batch", "200"], "out_of_range", "--batch"],
    [["--threads", "4"], "out_of_range", "--threads"],
    [["--volunteers", "1,x"], "bad_list", "1,2,4"],
    [["--volunteers", "4,2"], "bad_list", "increase"],
    [["--volunteers", "0"], "out_of_range", "--volunteers"],
    [["--no-such-flag"], "bad_option", "no-such-flag"],
    [["extra"], "bad_option", "extra"],
    [["--json", ""], "bad_option", "--json"],
  ])("refuses %j with %s", (argv, code, mentions) => {
    const parsed = parseExpertsArgs(argv);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.code).toBe(code);
    expect(parsed.message).toContain(mentions);
  });
});

const settings = { images: 1000, batchRows: 100, threads: 1 };
function times(model: PassTimes["model"], passWallMs: number[], passComputeMs: number[]): PassTimes {
  return { model, provider: "wasm", passWallMs, passComputeMs, loadMs: 12.345, predictions: [] };
}

describe("bench:experts rows and report", () => {
  it("speedRow: per-pass samples/s, their median, min and max", () => {
    const row = speedRow(
      "onnxruntime-web (Chromium worker)",
      times("moe-int8", [100, 50, 200], [40, 40, 40]),
      settings,
      0,
    );
    expect(row.samples_per_s_median).toBe(10_000);
    expect(row.samples_per_s_min).toBe(5_000);
    expect(row.samples_per_s_max).toBe(20_000);
    expect(row.compute_samples_per_s_median).toBe(25_000);
    expect(row.reps).toBe(3);
    expect(row.load_ms).toBe(12.35);
    expect(row.prediction_mismatches_vs_native).toBe(0);
  });

  it("browserOverNative divides the same model's rows; a missing side gives null", () => {
    const rows = [
      speedRow("onnxruntime-web (Chromium worker)", times("moe-int8", [100], [50]), settings, 0),
      speedRow(
        "onnxruntime-node (native)",
        { ...times("moe-int8", [25], [25]), provider: "cpu" },
        settings,
        null,
      ),
      speedRow("onnxruntime-web (Chromium worker)", times("moe-fp32", [100], [50]), settings, 0),
    ];
    expect(browserOverNative(rows)).toEqual([
      { model: "moe-int8", browser_over_native: 0.25, browser_over_native_compute_only: 0.5 },
      { model: "moe-fp32", browser_over_native: null, browser_over_native_compute_only: null },
    ]);
  });

  it("summarizeLatency: request-weighted median of host p50s, largest host p99 as the bound", () => {
    const hosts: LatencyRow[] = [
      { host: "volunteer-1", requests: 90, p50_ms: 20, p99_ms: 80, ewma_ms_per_row: 0.3 },
      { host: "volunteer-2", requests: 10, p50_ms: 60, p99_ms: 300, ewma_ms_per_row: 1 },
      { host: "volunteer-3", requests: 0, p50_ms: null, p99_ms: null, ewma_ms_per_row: null },
    ];
    const s = summarizeLatency(hosts);
    expect(s.p50_ms_request_weighted).toBe(20);
    expect(s.p99_ms_upper_bound).toBe(300);
    expect(s.requests).toBe(100);
    expect(summarizeLatency([]).p99_ms_upper_bound).toBeNull();
  });

  it("withRelative compares each stage with the first", () => {
    const base: Omit<SwarmRow, "relative_to_first" | "volunteer_tabs" | "images_per_s_median"> = {
      hosts: 2,
      images: 1000,
      jobs: 3,
      job_ms: [],
      rows_share_by_source: {},
      mismatches_vs_whole_graph: 0,
      rows_compared: 3000,
    };
    const rows = withRelative([
      { ...base, volunteer_tabs: 1, images_per_s_median: 2000 },
      { ...base, volunteer_tabs: 2, images_per_s_median: 3000 },
      { ...base, volunteer_tabs: 4, images_per_s_median: null },
    ]);
    expect(rows.map((r) => r.relative_to_first)).toEqual([1, 1.5, null]);
  });

  it("formatTable aligns columns (first left, others right) and fmt shows missing values as —", () => {
    const lines = formatTable(
      ["model", "samples/s"],
      [
        ["moe-int8", "31104"],
        ["moe-fp32", "7"],
      ],
    );
    expect(lines).toEqual([
      "model     samples/s",
      "--------  ---------",
      "moe-int8      31104",
      "moe-fp32          7",
    ]);
    expect(fmt(null)).toBe("—");
    expect(fmt(NaN)).toBe("—");
    expect(fmt(1.23456, 2)).toBe("1.23");
  });

  it("renderReport prints the ratios, the swarm, the mismatch count and what was not measured", () => {
    const models = [
      speedRow("onnxruntime-web (Chromium worker)", times("moe-int8", [100], [50]), settings, 0),
      speedRow(
        "onnxruntime-node (native)",
        { ...times("moe-int8", [25], [25]), provider: "cpu" },
        settings,
        null,
      ),
    ];
    const text = renderReport({
      models,
      ratios: browserOverNative(models),
      swarm: withRelative([
        {
          volunteer_tabs: 1,
          hosts: 2,
          images: 1000,
          jobs: 3,
          images_per_s_median: 2500,
          job_ms: [400, 410, 390],
          rows_share_by_source: { requester: 0.5, "volunteer-1": 0.48, local: 0.02 },
          mismatches_vs_whole_graph: 0,
          rows_compared: 3000,
        },
      ]),
      latency: summarizeLatency([
        { host: "volunteer-1", requests: 5, p50_ms: 30, p99_ms: 90, ewma_ms_per_row: 0.5 },
      ]),
      swarmMismatches: 0,
      swarmRowsCompared: 3000,
      notMeasured: ["webgpu speed: no GPU"],
    }).join("\n");
    expect(text).toContain("batch 100 rows");
    expect(text).toMatch(/moe-int8\s+0\.250\s+0\.500/);
    expect(text).toContain("400/410/390");
    // The swarm against one tab running the whole graph: 2500 / 10000 samples/s.
    expect(text).toMatch(/1\s+2\s+2500\s+1\.00\s+0\.250\s+400/);
    expect(text).toContain("volunteer-1 48%");
    expect(text).toContain("p99 ≤ 90.0 ms");
    expect(text).toContain("0 mismatches in 3000 rows");
    expect(text).toContain("  - webgpu speed: no GPU");
  });
});
