import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ensureWasmBuilt } from "./helpers.ts";

// Smoke run of the solver benchmark in --quick mode (small problems, no Eigen compile): it must finish,
// write the documented JSON and report honestly (nonsymmetric matrices that CG cannot solve say so).

const root = fileURLToPath(new URL("../../../", import.meta.url));
const run = promisify(execFile);

interface Row {
  problem: string;
  backend: string;
  threads: number;
  n: number;
  nnz: number;
  spmv_gbps: number;
  triad_gbps: number;
  triad_small_gbps: number;
  triad_length: number;
  spmv_alternating_gbps: number | null;
  triad_alternating_gbps: number | null;
  cg_converged: boolean;
  cg_iterations: number;
  rel_residual: number;
  symmetric: boolean;
}

describe("bench/solver.ts --quick", () => {
  it("writes rows for every problem × backend, ratios from the same run, and what it did not measure", async () => {
    ensureWasmBuilt();
    const dir = await mkdtemp(join(tmpdir(), "open-swarm-bench-"));
    try {
      const json = join(dir, "solver.json");
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", "bench/solver.ts", "--quick", "--no-eigen", "--no-webgpu", "--json", json],
        { cwd: root, timeout: 120_000 },
      );
      expect(stdout).toContain("spmv GB/s");
      const out = JSON.parse(await readFile(json, "utf8")) as {
        rows: Row[];
        ratios: Record<string, Record<string, number>>;
        not_measured: { name: string; reason: string }[];
        notes: string[];
      };
      // The output says what the reference triad is and why STREAM's array-size rule was not used.
      expect(stdout).toContain("triad_gbps is the reference");
      expect(out.notes.some((n) => n.includes("STREAM's rule"))).toBe(true);
      const problems = [...new Set(out.rows.map((r) => r.problem))];
      expect(problems).toEqual(
        expect.arrayContaining(["poisson2d-100", "poisson3d-22", "bcsstk13", "west0479"]),
      );
      for (const p of problems) {
        const kinds = out.rows.filter((r) => r.problem === p).map((r) => `${r.backend}/${r.threads}`);
        expect(kinds.sort()).toEqual(["js/1", "wasm/1", "wasm/2"]);
      }
      for (const r of out.rows) {
        expect(r.spmv_gbps).toBeGreaterThan(0);
        expect(r.triad_gbps).toBeGreaterThan(0);
        expect(r.triad_small_gbps).toBeGreaterThan(0);
        // The reference triad moves the SpMV's effective bytes (24 per element).
        expect(r.triad_length).toBe(Math.ceil((12 * r.nnz + 20 * r.n) / 24));
        // js and wasm rows also time the SpMV and that triad in alternation (the cold regime).
        expect(r.spmv_alternating_gbps).toBeGreaterThan(0);
        expect(r.triad_alternating_gbps).toBeGreaterThan(0);
        // A converged row is certified by an independent residual; a symmetric positive definite Poisson
        // problem must converge, west0479 (nonsymmetric, not diagonally dominant) must not claim to.
        if (r.cg_converged) expect(r.rel_residual).toBeLessThanOrEqual(1e-8 * 10);
        if (r.problem.startsWith("poisson")) expect(r.cg_converged).toBe(true);
        if (r.problem === "west0479") expect(r.cg_converged).toBe(false);
      }
      expect(out.ratios["poisson2d-100"]?.["wasm2 spmv_gbps / wasm1 spmv_gbps"]).toBeGreaterThan(0);
      expect(out.ratios["poisson2d-100"]?.["wasm1 spmv_gbps / wasm1 triad_small_gbps"]).toBeGreaterThan(0);
      expect(out.not_measured.map((m) => m.name)).toEqual(expect.arrayContaining(["webgpu", "eigen"]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
