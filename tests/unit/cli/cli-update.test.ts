import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { applyUpdates, type SystemUpdates } from "../../../src/core/solver/updates/patch.ts";
import { parseMatrixMarket, parseMatrixMarketVector } from "../../../src/core/sparse/matrix-market.ts";
import { multiply, ones, relativeResidual } from "../../../src/core/sparse/ops.ts";

// `open-swarm solve --update/--update-rhs`: solve, apply the changes, re-solve warm, and compare with a
// cold solve of the updated system measured in the same run. The written x is checked here against the
// updated system, built independently from the same files.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const matrix = resolve(repoRoot, "../shared/matrices/494_bus.mtx");
const bin = join(repoRoot, "bin/open-swarm.mjs");
const work = mkdtempSync(join(tmpdir(), "open-swarm-cli-update-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: work, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const a = parseMatrixMarket(readFileSync(matrix, "utf8"));
const b = multiply(a, ones(a.cols));

// a_11 (2220.874 in the file) and the symmetric pair a_16,1 = a_1,16 (-9.960159) change by ~0.1 %, b_3 by 1e-3.
const dA = file(
  "dA.mtx",
  "%%MatrixMarket matrix coordinate real symmetric\n494 494 2\n1 1 2223.0\n16 1 -9.97\n",
);
const db = file("db.mtx", "%%MatrixMarket matrix coordinate real general\n494 1 1\n3 1 0.001\n");
const expectedSet: SystemUpdates = {
  matrix: [
    { row: 0, col: 0, value: 2223.0 },
    { row: 0, col: 15, value: -9.97 },
    { row: 15, col: 0, value: -9.97 },
  ],
  rhs: [{ index: 2, value: 0.001 }],
};

describe("open-swarm solve --update", () => {
  it("re-solves warm, reports iterations saved against a cold solve, and --out solves the UPDATED system", async () => {
    const out = join(work, "x.mtx");
    const run = await runCli(["solve", matrix, "--update", dA, "--update-rhs", db, "--json", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run.stdout);
    const u = report["update"] as Record<string, unknown>;
    expect(u).toMatchObject({
      mode: "set",
      matrix_entries: 3,
      rhs_entries: 1,
      new_entries: 0,
      cold_converged: true,
    });
    const warm = u["iterations_warm"] as number;
    const cold = u["iterations_cold"] as number;
    expect(warm).toBe(report["iterations"]);
    expect(u["saved"]).toBe(cold - warm);
    expect(warm).toBeLessThan(cold);
    expect(u["warm_start_residual"]).toBeLessThan(1e-2);
    expect((u["initial"] as Record<string, unknown>)["converged"]).toBe(true);
    expect(report).not.toHaveProperty("max_error_vs_ones"); // x = 1 is not the answer any more
    const updated = applyUpdates(a, b, expectedSet);
    const x = parseMatrixMarketVector(readFileSync(out, "utf8"));
    expect(relativeResidual(updated.a, x, updated.b)).toBeLessThanOrEqual(1e-8);
    expect(relativeResidual(a, x, b)).toBeGreaterThan(1e-8);
  });

  it("--update-mode add adds, on the js backend; the human report says what was saved", async () => {
    const out = join(work, "x-add.mtx");
    const run = await runCli([
      "solve",
      matrix,
      "--update-rhs",
      db,
      "--update-mode",
      "add",
      "--backend",
      "js",
      "--out",
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/warm re-solve: \d+ iterations vs cold \d+: saved -?\d+/);
    const updated = applyUpdates(a, b, { rhs: [{ index: 2, value: 0.001, mode: "add" }] });
    const x = parseMatrixMarketVector(readFileSync(out, "utf8"));
    expect(relativeResidual(updated.a, x, updated.b)).toBeLessThanOrEqual(1e-8);
  });

  it("--no-cold-compare skips the cold solve and says so (null, not a guess)", async () => {
    const run = await runCli(["solve", matrix, "--update", dA, "--no-cold-compare", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const u = lastJson(run.stdout)["update"] as Record<string, unknown>;
    expect(u["iterations_cold"]).toBeNull();
    expect(u["saved"]).toBeNull();
    expect(u["iterations_warm"]).toBeGreaterThan(0);
  });

  it("inserts an entry outside A's pattern", async () => {
    const insert = file(
      "insert.mtx",
      "%%MatrixMarket matrix coordinate real symmetric\n494 494 1\n400 2 -0.5\n",
    );
    const out = join(work, "x-insert.mtx");
    const run = await runCli(["solve", matrix, "--update", insert, "--json", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect((lastJson(run.stdout)["update"] as Record<string, unknown>)["new_entries"]).toBe(2);
    const updated = applyUpdates(a, b, {
      matrix: [
        { row: 399, col: 1, value: -0.5 },
        { row: 1, col: 399, value: -0.5 },
      ],
    });
    expect(
      relativeResidual(updated.a, parseMatrixMarketVector(readFileSync(out, "utf8")), updated.b),
    ).toBeLessThanOrEqual(1e-8);
  });

  it("bad update files get specific errors before any solve", async () => {
    const cases: [string, string, string][] = [
      [
        "--update",
        "%%MatrixMarket matrix coordinate real general\n494 494 1\n495 1 1.0\n",
        "index_out_of_range",
      ],
      ["--update", "%%MatrixMarket matrix coordinate real general\n10 10 1\n1 1 1.0\n", "count_mismatch"],
      [
        "--update",
        "%%MatrixMarket matrix coordinate pattern general\n494 494 1\n1 1\n",
        "unsupported_format",
      ],
      ["--update", "%%MatrixMarket matrix coordinate real general\n494 494 1\n1 1 nan\n", "non_finite"],
      ["--update-rhs", "%%MatrixMarket matrix coordinate real general\n10 1 1\n3 1 1.0\n", "vector_length"],
      ["--update-rhs", "%%MatrixMarket matrix array real general\n3 1\n1\n2\n3\n", "vector_length"],
    ];
    for (const [flag, text, code] of cases) {
      const path = file(`bad-${code}-${flag}.mtx`, text);
      const run = await runCli(["solve", matrix, flag, path, "--json"]);
      expect(run.code, `${code}: ${run.stderr}`).toBe(1);
      expect((lastJson(run.stdout)["error"] as Record<string, unknown>)["code"]).toBe(code);
      expect(run.stderr).toContain(path);
      expect(run.stderr).not.toContain("initial solve");
    }
    const missing = await runCli(["solve", matrix, "--update", join(work, "nope.mtx")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error [file_not_found]");
    const badMode = await runCli(["solve", matrix, "--update", dA, "--update-mode", "multiply"]);
    expect(badMode.code).toBe(1);
    expect(badMode.stderr).toContain("--update-mode");
  });
});
