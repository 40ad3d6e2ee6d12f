import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `open-swarm solve --method direct --ordering amd|rcm|natural`: every ordering solves west0479 (the matrix
// that defeats Jacobi-preconditioned Krylov methods), and the stage note says which ordering ran and how
// much fill it made, so AMD's advantage is visible to a user.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const matrix = resolve(repoRoot, "../shared/matrices/west0479.mtx");
const bin = join(repoRoot, "bin/open-swarm.mjs");

function solveJson(args: string[]): Promise<{ code: number; json: Record<string, unknown> | null }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, "solve", matrix, ...args], { timeout: 60_000 }, (error, stdout) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      const last = stdout.trim().split("\n").pop() ?? "";
      done({ code, json: last.startsWith("{") ? (JSON.parse(last) as Record<string, unknown>) : null });
    });
  });
}

function fillOf(json: Record<string, unknown>): number {
  const stages = json["stages"] as { note?: string }[];
  const match = /nnz\(L\+U\) = (\d+)/.exec(stages[0]?.note ?? "");
  if (!match) throw new Error(`no fill in ${JSON.stringify(stages)}`);
  return Number(match[1]);
}

describe("open-swarm solve --ordering", () => {
  it("solves with every ordering and AMD fills less than RCM", async () => {
    const [amd, rcm] = await Promise.all([
      solveJson(["--method", "direct", "--ordering", "amd", "--json"]),
      solveJson(["--method", "direct", "--ordering", "rcm", "--json"]),
    ]);
    for (const run of [amd, rcm]) {
      expect(run.code).toBe(0);
      expect(run.json?.["rel_residual"] as number).toBeLessThanOrEqual(1e-8);
    }
    expect(JSON.stringify(amd.json?.["stages"])).toContain("AMD");
    expect(JSON.stringify(rcm.json?.["stages"])).toContain("RCM");
    expect(fillOf(amd.json!)).toBeLessThan(fillOf(rcm.json!));
  }, 120_000);

  it("refuses an unknown ordering", async () => {
    const run = await solveJson(["--ordering", "colamd", "--json"]);
    expect(run.code).not.toBe(0);
    expect(JSON.stringify(run.json?.["error"])).toMatch(/colamd.*amd, rcm, natural/);
  }, 60_000);
});
