import type { LatencyRow, LatencySummary, ModelSpeedRow, MoeModel, RatioRow, SwarmRow } from "./rows.ts";
import { ratio, weightedMedian } from "./stats.ts";

/** Ratios of the browser rows over the native rows of the same model (same run). */
export function browserOverNative(rows: readonly ModelSpeedRow[]): RatioRow[] {
  const models = [...new Set(rows.map((r) => r.model))];
  return models.map((model: MoeModel) => {
    const web = rows.find((r) => r.model === model && r.runtime.startsWith("onnxruntime-web"));
    const native = rows.find((r) => r.model === model && r.runtime.startsWith("onnxruntime-node"));
    return {
      model,
      browser_over_native: ratio(web?.samples_per_s_median ?? null, native?.samples_per_s_median ?? null),
      browser_over_native_compute_only: ratio(
        web?.compute_samples_per_s_median ?? null,
        native?.compute_samples_per_s_median ?? null,
      ),
    };
  });
}

export function summarizeLatency(perHost: readonly LatencyRow[]): LatencySummary {
  const measured = perHost.filter((h) => h.p50_ms !== null && h.requests > 0);
  const p99s = measured.map((h) => h.p99_ms).filter((x): x is number => x !== null);
  return {
    p50_ms_request_weighted: weightedMedian(
      measured.map((h) => h.p50_ms!),
      measured.map((h) => h.requests),
    ),
    p99_ms_upper_bound: p99s.length === 0 ? null : Math.max(...p99s),
    requests: perHost.reduce((s, h) => s + h.requests, 0),
    per_host: perHost,
  };
}

/** Adds relative_to_first (images/s over the first volunteer count's). */
export function withRelative(rows: readonly Omit<SwarmRow, "relative_to_first">[]): SwarmRow[] {
  const first = rows[0]?.images_per_s_median ?? null;
  return rows.map((r) => ({ ...r, relative_to_first: ratio(r.images_per_s_median, first) }));
}

/** A fixed-width text table: the first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

/** A number for the table: `digits` decimals, "—" when missing. */
export function fmt(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
}

export interface ReportInput {
  readonly models: readonly ModelSpeedRow[];
  readonly ratios: readonly RatioRow[];
  readonly swarm: readonly SwarmRow[];
  readonly latency: LatencySummary | null;
  readonly swarmMismatches: number | null;
  readonly swarmRowsCompared: number;
  readonly notMeasured: readonly string[];
}

/** The readable report printed after a run. */
export function renderReport(r: ReportInput): string[] {
  const out: string[] = ["", "── Open-Swarm experts benchmark ──", ""];
  if (r.models.length > 0) {
    const first = r.models[0]!;
    out.push(
      `Single model (${first.images} test images, batch ${first.batch_rows} rows, ${first.threads} thread(s), ` +
        `median of ${first.reps} passes after warm-up):`,
      ...formatTable(
        [
          "model",
          "runtime",
          "provider",
          "samples/s",
          "compute-only samples/s",
          "min..max samples/s",
          "≠ native",
        ],
        r.models.map((m) => [
          m.model,
          m.runtime,
          m.provider,
          fmt(m.samples_per_s_median),
          fmt(m.compute_samples_per_s_median),
          `${fmt(m.samples_per_s_min)}..${fmt(m.samples_per_s_max)}`,
          fmt(m.prediction_mismatches_vs_native),
        ]),
      ),
      "",
    );
  }
  if (r.ratios.length > 0) {
    out.push(
      "Browser ÷ native (same run):",
      ...formatTable(
        ["model", "browser/native", "compute-only browser/native"],
        r.ratios.map((x) => [
          x.model,
          fmt(x.browser_over_native, 3),
          fmt(x.browser_over_native_compute_only, 3),
        ]),
      ),
      "",
    );
  }
  if (r.swarm.length > 0) {
    const singleTab =
      r.models.find((m) => m.model === "moe-int8" && m.runtime.startsWith("onnxruntime-web"))
        ?.samples_per_s_median ?? null;
    out.push(
      `Swarm classify jobs (${r.swarm[0]!.images} images, median of ${r.swarm[0]!.jobs} jobs after a warm-up job):`,
      ...formatTable(
        [
          "volunteer tabs",
          "hosts",
          "images/s",
          "× first",
          "÷ one-tab moe-int8",
          "job ms",
          "mismatches",
          "rows by source",
        ],
        r.swarm.map((s) => [
          String(s.volunteer_tabs),
          String(s.hosts),
          fmt(s.images_per_s_median),
          fmt(s.relative_to_first, 2),
          fmt(ratio(s.images_per_s_median, singleTab), 3),
          s.job_ms.map((ms) => ms.toFixed(0)).join("/"),
          `${s.mismatches_vs_whole_graph}/${s.rows_compared}`,
          Object.entries(s.rows_share_by_source)
            .map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`)
            .join(", "),
        ]),
      ),
      "",
    );
  }
  if (r.latency) {
    const l = r.latency;
    out.push(
      `Routed expert request round trip (router host stats, ${l.requests} requests): ` +
        `p50 ≈ ${fmt(l.p50_ms_request_weighted, 1)} ms (request-weighted median of host p50s), ` +
        `p99 ≤ ${fmt(l.p99_ms_upper_bound, 1)} ms (largest host p99)`,
      ...formatTable(
        ["host", "requests", "p50 ms", "p99 ms", "ms/row (EWMA)"],
        l.per_host.map((h) => [
          h.host,
          String(h.requests),
          fmt(h.p50_ms, 1),
          fmt(h.p99_ms, 1),
          fmt(h.ewma_ms_per_row, 3),
        ]),
      ),
      "",
    );
  }
  if (r.swarmMismatches !== null) {
    out.push(
      `Swarm predictions vs the single-process moe-int8 run: ${r.swarmMismatches} mismatches in ${r.swarmRowsCompared} rows`,
    );
  }
  if (r.notMeasured.length > 0) out.push("", "Not measured:", ...r.notMeasured.map((n) => `  - ${n}`));
  return out;
}
