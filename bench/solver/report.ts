import type { BenchRow, CpuBenchRow, WebGpuBenchRow } from "./row.ts";

export type Ratios = Record<string, Record<string, number>>;

export interface TargetCheck {
  problem: string;
  ratio: string;
  value: number;
  target: string;
  met: boolean;
}

function find(
  rows: BenchRow[],
  problem: string,
  backend: CpuBenchRow["backend"],
  threads: number,
): CpuBenchRow | undefined {
  return rows.find(
    (r): r is CpuBenchRow => r.problem === problem && r.backend === backend && r.threads === threads,
  );
}

function findWebGpu(rows: BenchRow[], problem: string): WebGpuBenchRow | undefined {
  return rows.find((r): r is WebGpuBenchRow => r.problem === problem && r.backend === "webgpu");
}

/** Ratio names of the WebGPU counts, with the design's targets in the name (docs/ARCHITECTURE.md, "Solver engine"). */
export const WEBGPU_DISPATCHES = "webgpu dispatches/iteration (target ≤ 3)";
export const WEBGPU_READBACKS = "webgpu readbacks/iteration (target ≤ 0.1)";

/** Ratios between rows of the same run, per problem (only those whose rows were measured). */
export function computeRatios(rows: BenchRow[]): Ratios {
  const out: Ratios = {};
  for (const problem of [...new Set(rows.map((r) => r.problem))]) {
    const js = find(rows, problem, "js", 1);
    const w1 = find(rows, problem, "wasm", 1);
    const w2 = find(rows, problem, "wasm", 2);
    const e1 = find(rows, problem, "eigen", 1);
    const e2 = find(rows, problem, "eigen", 2);
    const r: Record<string, number> = {};
    const gpu = findWebGpu(rows, problem);
    const perIter = (x: CpuBenchRow): number => x.cg_ms / Math.max(1, x.cg_iterations);
    // triad_gbps is the byte-matched reference; triad_small_gbps the n-length triad (see notes.ts).
    const alternating = (x: CpuBenchRow): number | null =>
      x.spmv_alternating_gbps === null || x.triad_alternating_gbps === null
        ? null
        : x.spmv_alternating_gbps / x.triad_alternating_gbps;
    const put = (name: string, v: number | null): void => {
      if (v !== null) r[name] = v;
    };
    if (w1) {
      r["wasm1 spmv_gbps / wasm1 triad_gbps"] = w1.spmv_gbps / w1.triad_gbps;
      r["wasm1 spmv_gbps / wasm1 triad_small_gbps"] = w1.spmv_gbps / w1.triad_small_gbps;
      put("wasm1 alternating spmv / triad", alternating(w1));
      if (w1.solve_ms !== null) r["wasm1 solve_ms / wasm1 cg_ms"] = w1.solve_ms / w1.cg_ms;
    }
    if (w2) {
      r["wasm2 spmv_gbps / wasm2 triad_gbps"] = w2.spmv_gbps / w2.triad_gbps;
      r["wasm2 spmv_gbps / wasm2 triad_small_gbps"] = w2.spmv_gbps / w2.triad_small_gbps;
      put("wasm2 alternating spmv / triad", alternating(w2));
    }
    if (js) {
      r["js spmv_gbps / js triad_gbps"] = js.spmv_gbps / js.triad_gbps;
      r["js spmv_gbps / js triad_small_gbps"] = js.spmv_gbps / js.triad_small_gbps;
      put("js alternating spmv / triad", alternating(js));
    }
    if (w1 && w2) r["wasm2 spmv_gbps / wasm1 spmv_gbps"] = w2.spmv_gbps / w1.spmv_gbps;
    if (w1 && js) r["wasm1 spmv_gbps / js spmv_gbps"] = w1.spmv_gbps / js.spmv_gbps;
    if (e1) {
      r["eigen1 spmv_gbps / eigen1 triad_gbps"] = e1.spmv_gbps / e1.triad_gbps;
      r["eigen1 spmv_gbps / eigen1 triad_small_gbps"] = e1.spmv_gbps / e1.triad_small_gbps;
    }
    if (w1 && e1) {
      r["wasm1 cg_ms / eigen1 cg_ms"] = w1.cg_ms / e1.cg_ms;
      r["wasm1 ms_per_iter / eigen1 ms_per_iter"] = perIter(w1) / perIter(e1);
      r["wasm1 spmv_ms / eigen1 spmv_ms"] = w1.spmv_ms / e1.spmv_ms;
    }
    if (w2 && e1) r["wasm2 cg_ms / eigen1 cg_ms"] = w2.cg_ms / e1.cg_ms;
    if (w2 && e2) r["wasm2 cg_ms / eigen2 cg_ms"] = w2.cg_ms / e2.cg_ms;
    if (gpu) {
      // Counts, not times: they hold on any adapter, SwiftShader included.
      r[WEBGPU_DISPATCHES] = gpu.dispatches_per_iteration;
      r["webgpu dispatches/useful iteration"] = gpu.dispatches_per_useful_iteration;
      r[WEBGPU_READBACKS] = gpu.readbacks_per_iteration;
      // Whole solves to the same f64 tolerance: only from a hardware adapter (cg_ms is null otherwise).
      if (gpu.cg_ms !== null && w1 && gpu.cg_converged && w1.cg_converged)
        r["webgpu cg_ms / wasm1 cg_ms"] = gpu.cg_ms / w1.cg_ms;
    }
    if (Object.keys(r).length > 0) out[problem] = r;
  }
  return out;
}

/**
 * The brief's targets, checked on the headline problems; the WebGPU counts on `webgpuHeadline` (the
 * headline problems when they were run on WebGPU, see webgpuHeadline()).
 */
export function checkTargets(
  ratios: Ratios,
  headline: string[],
  webgpuHeadline: string[] = headline,
): TargetCheck[] {
  const specs: [string, string, (v: number) => boolean, string[]][] = [
    ["wasm1 spmv_gbps / wasm1 triad_gbps", ">= 0.85", (v) => v >= 0.85, headline],
    // The same target in the cold regime (see notes.ts): it must hold in both.
    ["wasm1 alternating spmv / triad", ">= 0.85", (v) => v >= 0.85, headline],
    ["wasm2 spmv_gbps / wasm1 spmv_gbps", ">= 1.7", (v) => v >= 1.7, headline],
    ["wasm1 cg_ms / eigen1 cg_ms", "<= 1.15", (v) => v <= 1.15, headline.slice(0, 1)],
    [WEBGPU_DISPATCHES, "<= 3", (v) => v <= 3, webgpuHeadline],
    [WEBGPU_READBACKS, "<= 0.1", (v) => v <= 0.1, webgpuHeadline],
  ];
  const out: TargetCheck[] = [];
  for (const [ratio, target, ok, problems] of specs) {
    for (const problem of problems) {
      const value = ratios[problem]?.[ratio];
      if (value !== undefined) out.push({ problem, ratio, value, target, met: ok(value) });
    }
  }
  return out;
}

/**
 * Where the WebGPU count targets are checked: the headline problems that have WebGPU rows; when none has
 * (the full run's 10⁶-row grids are above the default size limit), the largest symmetric problem that
 * converged on WebGPU, so the targets are still checked on the biggest solve measured, and say which.
 */
export function webgpuHeadline(rows: BenchRow[], headline: string[]): string[] {
  const gpu = rows.filter((r): r is WebGpuBenchRow => r.backend === "webgpu");
  const inHeadline = headline.filter((h) => gpu.some((r) => r.problem === h));
  if (inHeadline.length > 0) return inHeadline;
  const largest = gpu
    .filter((r) => r.symmetric && r.cg_converged)
    .sort((a, b) => b.n - a.n || a.problem.localeCompare(b.problem))[0];
  return largest === undefined ? [] : [largest.problem];
}

function fmt(v: number | null, digits: number): string {
  if (v === null) return "-";
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e7)) return v.toExponential(1);
  return v.toFixed(digits);
}

/** The CPU rows (js, wasm, eigen); the WebGPU rows have their own table (formatWebGpuTable). */
export function formatTable(rows: BenchRow[]): string {
  const cpu = rows.filter((r): r is CpuBenchRow => r.backend !== "webgpu");
  const head = [
    "problem",
    "n",
    "nnz",
    "backend",
    "thr",
    "spmv ms",
    "spmv GB/s",
    "triad GB/s",
    "triad_small GB/s",
    "alt spmv",
    "alt triad",
    "cg ms",
    "iters",
    "conv",
    "rel_res",
    "solve ms",
  ];
  const body = cpu.map((r) => [
    r.problem,
    String(r.n),
    String(r.nnz),
    r.backend,
    String(r.threads),
    fmt(r.spmv_ms, 3),
    fmt(r.spmv_gbps, 2),
    fmt(r.triad_gbps, 2),
    fmt(r.triad_small_gbps, 2),
    fmt(r.spmv_alternating_gbps, 2),
    fmt(r.triad_alternating_gbps, 2),
    fmt(r.cg_ms, 1),
    String(r.cg_iterations),
    r.cg_converged ? "yes" : "NO",
    r.rel_residual.toExponential(2),
    fmt(r.solve_ms, 1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** The WebGPU rows' own columns: counts per iteration, refinement steps, adapter. */
export function formatWebGpuTable(rows: BenchRow[]): string {
  const gpu = rows.filter((r): r is WebGpuBenchRow => r.backend === "webgpu");
  if (gpu.length === 0) return "";
  const head = [
    "problem",
    "n",
    "adapter",
    "iters",
    "encoded",
    "refine",
    "blocks",
    "disp/it",
    "disp/useful it",
    "readbacks/it",
    "conv",
    "rel_res",
    "ms",
  ];
  const body = gpu.map((r) => [
    r.problem,
    String(r.n),
    r.adapter,
    String(r.cg_iterations),
    String(r.encoded_iterations),
    String(r.outer_iterations),
    String(r.row_blocks),
    r.dispatches_per_iteration.toFixed(2),
    r.dispatches_per_useful_iteration.toFixed(2),
    r.readbacks_per_iteration.toFixed(3),
    r.cg_converged ? "yes" : `NO (${r.reason})`,
    r.rel_residual.toExponential(2),
    fmt(r.cg_ms, 1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === 2 || i === 10 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function formatRatios(ratios: Ratios, targets: TargetCheck[]): string {
  const lines: string[] = [];
  for (const [problem, r] of Object.entries(ratios)) {
    lines.push(`${problem}:`);
    for (const [name, v] of Object.entries(r)) lines.push(`  ${name.padEnd(44)} ${v.toFixed(3)}`);
  }
  lines.push("targets:");
  for (const t of targets) {
    lines.push(
      `  ${t.problem.padEnd(16)} ${t.ratio.padEnd(44)} ${t.value.toFixed(3)} (target ${t.target}) ${t.met ? "met" : "NOT met"}`,
    );
  }
  return lines.join("\n");
}
