/**
 * bench:experts' JSON rows. Units are in the names (samples_per_s, _ms); null where a figure could not be
 * measured (the reason is then in not_measured).
 */
export type MoeModel = "moe-int8" | "moe-fp32";

/** One model on one runtime: fixed images, fixed batch, warm-up excluded, median of `reps` passes. */
export interface ModelSpeedRow {
  readonly model: MoeModel;
  readonly runtime: "onnxruntime-web (Chromium worker)" | "onnxruntime-node (native)";
  /** The provider the session actually used ("wasm" in the browser, "cpu" natively). */
  readonly provider: string;
  readonly threads: number;
  readonly images: number;
  readonly batch_rows: number;
  readonly reps: number;
  /** Wall time of a pass as the caller sees it (browser: worker messages and copies included). */
  readonly samples_per_s_median: number | null;
  readonly samples_per_s_min: number | null;
  readonly samples_per_s_max: number | null;
  /** Time inside session.run only (the worker's own timing in the browser). */
  readonly compute_samples_per_s_median: number | null;
  readonly pass_ms: readonly number[];
  readonly load_ms: number;
  /** Rows whose argmax differs from onnxruntime-node's on the same model and images (null: not compared). */
  readonly prediction_mismatches_vs_native: number | null;
}

export interface RatioRow {
  readonly model: MoeModel;
  /** browser samples/s ÷ native samples/s, same run, same images, batch and thread count. */
  readonly browser_over_native: number | null;
  readonly browser_over_native_compute_only: number | null;
}

/** Classify jobs of `images` test images through the swarm router, with `volunteer_tabs` volunteers. */
export interface SwarmRow {
  readonly volunteer_tabs: number;
  /** Expert hosts: the volunteer tabs plus the requester's own host (it serves through the loopback). */
  readonly hosts: number;
  readonly images: number;
  readonly jobs: number;
  readonly images_per_s_median: number | null;
  readonly job_ms: readonly number[];
  readonly relative_to_first: number | null;
  /** Share of accepted expert rows per source over the timed jobs ("requester", "volunteer-1", …, "local"). */
  readonly rows_share_by_source: Readonly<Record<string, number>>;
  /** Rows whose swarm prediction differs from the single-process moe-int8 run in the requester tab. */
  readonly mismatches_vs_whole_graph: number;
  readonly rows_compared: number;
}

/** Round-trip latency of routed expert requests to one host, from the requester router's host stats. */
export interface LatencyRow {
  readonly host: string;
  readonly requests: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly ewma_ms_per_row: number | null;
}

export interface LatencySummary {
  /** Median of the hosts' p50, weighted by their request counts (the router keeps percentiles, not samples). */
  readonly p50_ms_request_weighted: number | null;
  /** The largest host p99: an upper bound of the p99 over all requests. */
  readonly p99_ms_upper_bound: number | null;
  readonly requests: number;
  readonly per_host: readonly LatencyRow[];
}
