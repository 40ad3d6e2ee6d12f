import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parseMatrixMarket, parseMatrixMarketVector } from "../../../src/core/sparse/matrix-market.ts";
import { multiply, ones, relativeResidual } from "../../../src/core/sparse/ops.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const matricesDir = resolve(repoRoot, "../shared/matrices");
const bin = join(repoRoot, "bin/open-swarm.mjs");
const work = mkdtempSync(join(tmpdir(), "open-swarm-cli-"));

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

/** The --json contract: one JSON object, the last line of stdout. */
function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe("open-swarm solve (spawned CLI)", () => {
  it("solves 494_bus with --json: converged, rel_residual <= 1e-8, and --out holds an x that really solves it", async () => {
    const out = join(work, "x.mtx");
    const run = await runCli(["solve", join(matricesDir, "494_bus.mtx"), "--json", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run.stdout);
    expect(report["converged"]).toBe(true);
    expect(report["rel_residual"]).toBeLessThanOrEqual(1e-8);
    expect(report["n"]).toBe(494);
    expect(report["nnz"]).toBe(1666);
    expect(Array.isArray(report["method"])).toBe(true);
    for (const key of ["iterations", "ms", "backend", "threads", "reason", "best_residual"]) {
      expect(report, key).toHaveProperty(key);
    }
    expect(run.stderr).toContain("b = A*1");
    // Independent check of the written solution: recompute ‖b − Ax‖/‖b‖ here from the files.
    const a = parseMatrixMarket(readFileSync(join(matricesDir, "494_bus.mtx"), "utf8"));
    const x = parseMatrixMarketVector(readFileSync(out, "utf8"));
    expect(relativeResidual(a, x, multiply(a, ones(a.cols)))).toBeLessThanOrEqual(1e-8);
  });

  it("a matrix of explicit zeros: b = A*1 = 0 is said plainly, x = 0, and no claim that x = 1", async () => {
    const zero = join(work, "zero.mtx");
    writeFileSync(
      zero,
      "%%MatrixMarket matrix coordinate real general\n3 3 9\n" +
        "1 1 0\n1 2 0\n1 3 0\n2 1 0\n2 2 0\n2 3 0\n3 1 0\n3 2 0\n3 3 0\n",
    );
    const run = await runCli(["solve", zero, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("b = A*1 is zero");
    expect(run.stderr).not.toContain("the exact solution is x = 1");
    const report = lastJson(run.stdout);
    expect(report["iterations"]).toBe(0);
    expect(report["method"]).toEqual(["b = 0, so x = 0"]);
    expect(report).not.toHaveProperty("max_error_vs_ones");
  });

  it("a zero matrix with b ≠ 0 is a singular_matrix error that names the problem", async () => {
    const zero = join(work, "zero-b.mtx");
    writeFileSync(zero, "%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 0\n2 2 0\n3 3 0\n");
    const rhs = join(work, "ones3.mtx");
    writeFileSync(rhs, "%%MatrixMarket matrix array real general\n3 1\n1\n1\n1\n");
    const run = await runCli(["solve", zero, "--rhs", rhs]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/singular_matrix/);
    expect(run.stderr).toMatch(/zero matrix/);
  });

  it("uses --rhs and the js backend when asked", async () => {
    const rhs = join(work, "b.mtx");
    writeFileSync(rhs, `%%MatrixMarket matrix array real general\n14 1\n${"1\n".repeat(14)}`);
    const run = await runCli([
      "solve",
      join(matricesDir, "LFAT5.mtx"),
      "--rhs",
      rhs,
      "--backend",
      "js",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run.stdout);
    expect(report["backend"]).toBe("js");
    expect(report["rhs"]).toBe(rhs);
    expect(report["rel_residual"]).toBeLessThanOrEqual(1e-8);
  });

  it("reports a malformed file with exit code 1, the line and code, and no stack trace", async () => {
    const bad = join(work, "bad.mtx");
    writeFileSync(bad, "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n2 2 abc\n");
    const run = await runCli(["solve", bad, "--json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `error [parse_error]: ${bad}: line 4: expected value (a number), found "abc"`,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(lastJson(run.stdout)).toEqual({
      error: {
        code: "parse_error",
        message: `${bad}: line 4: expected value (a number), found "abc"`,
        details: { line: 4, found: "abc" },
      },
    });
  });

  it("exits 2 with an honest report when the method does not converge (west0479, BiCGSTAB+Jacobi)", async () => {
    const run = await runCli(["solve", join(matricesDir, "west0479.mtx"), "--method", "bicgstab", "--json"]);
    expect(run.code, run.stderr).toBe(2);
    const report = lastJson(run.stdout);
    expect(report["converged"]).toBe(false);
    expect(report["reason"]).not.toBe("converged");
    expect(report["rel_residual"] === null || (report["rel_residual"] as number) > 1e-8).toBe(true);
  });

  it("exits 1 for a missing file, an invalid option value and a wrong-length rhs", async () => {
    const missing = await runCli(["solve", join(work, "nope.mtx")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error [file_not_found]");
    const badTol = await runCli(["solve", join(matricesDir, "LFAT5.mtx"), "--tol", "-1"]);
    expect(badTol.code).toBe(1);
    expect(badTol.stderr).toContain("--tol");
    const rhs = join(work, "short.mtx");
    writeFileSync(rhs, "%%MatrixMarket matrix array real general\n3 1\n1\n2\n3\n");
    const short = await runCli(["solve", join(matricesDir, "LFAT5.mtx"), "--rhs", rhs]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("error [vector_length]");
    expect(short.stderr).toContain("3 entries; the matrix has 14 rows");
  });
});
