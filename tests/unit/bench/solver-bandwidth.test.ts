import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastLevelCache } from "../../../bench/solver/cache.ts";
import { bandwidthNotes } from "../../../bench/solver/notes.ts";
import { checkTargets, computeRatios } from "../../../bench/solver/report.ts";
import type { CpuBenchRow } from "../../../bench/solver/row.ts";
import { alternatingMedianMs, blockMedianMs, triadLengthFor } from "../../../bench/solver/timing.ts";

// The solver benchmark's bandwidth methodology: how kernels are interleaved, which triad is the
// reference, and what the output says about it.

function recorder(): { calls: string[]; fn: (name: string) => () => void } {
  const calls: string[] = [];
  return { calls, fn: (name) => () => void calls.push(name) };
}

describe("bench timing", () => {
  it("blockMedianMs runs warm-up then timed calls per block, rotating which kernel starts a round", () => {
    const { calls, fn } = recorder();
    const ms = blockMedianMs(4, 1, 2, [fn("a"), fn("b"), fn("c")]);
    expect(ms).toHaveLength(3);
    // 2 rounds × 3 kernels × (1 warm-up + 2 timed): round 0 starts with a, round 1 with b.
    expect(calls.join("")).toBe("aaabbbccc" + "bbbcccaaa");
  });

  it("alternatingMedianMs alternates call by call, rotating the order each round", () => {
    const { calls, fn } = recorder();
    alternatingMedianMs(3, 1, [fn("s"), fn("t")]);
    expect(calls.join("")).toBe("st" + "st" + "ts" + "st");
  });

  it("the reference triad moves the SpMV's effective bytes", () => {
    const n = 1_000_000;
    const nnz = 4_996_000;
    const len = triadLengthFor(12 * nnz + 20 * n);
    expect(24 * len).toBeGreaterThanOrEqual(12 * nnz + 20 * n);
    expect(24 * (len - 1)).toBeLessThan(12 * nnz + 20 * n);
  });
});

function row(backend: CpuBenchRow["backend"], threads: number, over: Partial<CpuBenchRow>): CpuBenchRow {
  return {
    problem: "p",
    n: 10,
    nnz: 50,
    symmetric: true,
    backend,
    threads,
    spmv_ms: 1,
    spmv_gbps: 9,
    triad_gbps: 10,
    triad_small_gbps: 20,
    triad_length: 30,
    spmv_alternating_gbps: 4,
    triad_alternating_gbps: 5,
    cg_ms: 1,
    cg_iterations: 1,
    cg_converged: true,
    rel_residual: 1e-9,
    solve_ms: null,
    solve_iterations: null,
    solve_converged: null,
    solve_rel_residual: null,
    ...over,
  };
}

describe("bench ratios", () => {
  it("checks the spmv/triad target against the byte-matched triad, in both regimes", () => {
    const rows = [
      row("wasm", 1, {}),
      row("eigen", 1, { spmv_alternating_gbps: null, triad_alternating_gbps: null }),
    ];
    const r = computeRatios(rows)["p"]!;
    expect(r["wasm1 spmv_gbps / wasm1 triad_gbps"]).toBeCloseTo(0.9);
    expect(r["wasm1 spmv_gbps / wasm1 triad_small_gbps"]).toBeCloseTo(0.45);
    expect(r["wasm1 alternating spmv / triad"]).toBeCloseTo(0.8);
    expect(Object.keys(r).some((k) => k.startsWith("eigen1 alternating"))).toBe(false);
    const t = checkTargets(computeRatios(rows), ["p"]);
    expect(t.find((x) => x.ratio === "wasm1 spmv_gbps / wasm1 triad_gbps")?.met).toBe(true);
    expect(t.find((x) => x.ratio === "wasm1 alternating spmv / triad")?.met).toBe(false);
  });
});

describe("bench notes", () => {
  it("says what STREAM's array rule would need, from the machine's last-level cache", async () => {
    const dir = await mkdtemp(join(tmpdir(), "open-swarm-cache-"));
    try {
      const level = async (i: number, lvl: number, type: string, size: string): Promise<void> => {
        await mkdir(join(dir, `index${i}`));
        await writeFile(join(dir, `index${i}`, "level"), `${lvl}\n`);
        await writeFile(join(dir, `index${i}`, "type"), `${type}\n`);
        await writeFile(join(dir, `index${i}`, "size"), `${size}\n`);
      };
      await level(0, 1, "Data", "48K");
      await level(1, 1, "Instruction", "32K");
      await level(2, 2, "Unified", "2048K");
      await level(3, 3, "Unified", "266240K");
      const llc = lastLevelCache(dir);
      expect(llc).toEqual({ level: 3, bytes: 266240 * 1024 });
      const notes = bandwidthNotes(llc).join("\n");
      expect(notes).toContain("L3 here is 260 MiB, so three arrays would take 3.05 GiB");
      expect(notes).toContain("triad_gbps is the reference");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(lastLevelCache(join(tmpdir(), "no-such-cache-dir"))).toBeNull();
    expect(bandwidthNotes(null).join("\n")).toContain("does not report its cache sizes");
  });
});
