import { describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { SolveOptions } from "../../../src/core/solver/types.ts";
import { loadMatrix, multiply, ones, SUITE } from "./helpers.ts";

const TOL = 1e-8;
const systems = new Map<string, { a: CsrMatrix; b: Float64Array }>();
function system(name: string): { a: CsrMatrix; b: Float64Array } {
  let s = systems.get(name);
  if (s === undefined) {
    const a = loadMatrix(name);
    s = { a, b: multiply(a, ones(a.rows)) };
    systems.set(name, s);
  }
  return s;
}

function run(name: string, o: Partial<SolveOptions>) {
  const { a, b } = system(name);
  return { a, b, r: solve(a, b, { method: "hybrid", tol: TOL, maxIter: 20000, ...o } as SolveOptions) };
}

describe("SuiteSparse matrices, b = A·1", () => {
  it.each(SUITE)("hybrid reaches 1e-8 on %s, and its certificates check out", (name) => {
    const { a, b, r } = run(name, {});
    expect(r.converged, `${name}: ${r.reason} ${r.relResidual} via ${r.methodPath.join(" > ")}`).toBe(true);
    expect(r.reason).toBe("converged");
    expect(r.relResidual).toBe(relativeResidual(a, r.x, b));
    expect(r.relResidual).toBeLessThanOrEqual(TOL);
    expect(r.methodPath.length).toBeGreaterThan(0);
    expect(r.stages?.at(-1)?.reason).toBe("converged");
  });

  it("west0479: Jacobi-preconditioned BiCGSTAB reports honestly that it did not converge", () => {
    const { a, b, r } = run("west0479", { method: "bicgstab", preconditioner: "jacobi", maxIter: 5000 });
    expect(r.converged).toBe(false);
    expect(["diverged", "stagnated", "breakdown", "max_iterations"]).toContain(r.reason);
    expect(r.relResidual).toBe(relativeResidual(a, r.x, b));
    expect(r.relResidual).toBeGreaterThan(TOL);
    expect(r.bestResidual).toBe(r.relResidual);
    expect(r.methodPath).toEqual(["bicgstab+jacobi"]);
    expect(r.stages?.[0]?.note).toMatch(/zero diagonal/);
  });

  it("west0479: direct LU is accurate (residual near rounding, x ≈ 1 within the conditioning)", () => {
    const { r } = run("west0479", { method: "direct" });
    expect(r.converged).toBe(true);
    expect(r.relResidual).toBeLessThan(1e-13);
    const err = r.x.reduce((m, v) => Math.max(m, Math.abs(v - 1)), 0);
    expect(err).toBeLessThan(1e-6); // cond(west0479) ≈ 3e11
  });

  it("west0479: row-permuted ILU(0) GMRES(100) converges", () => {
    const { r } = run("west0479", { method: "gmres", preconditioner: "ilu0", restart: 100, maxIter: 3000 });
    expect(r.converged, `${r.reason} ${r.relResidual}`).toBe(true);
  });

  // The README's native Jacobi-PCG counts: 494_bus ≈ 400, bcsstk13 ≈ 1400, dwt_878 ≈ 2000 (CG, b = A·1).
  it.each([
    ["494_bus", 400],
    ["bcsstk13", 1400],
    ["dwt_878", 2000],
  ] as const)("Jacobi-PCG on %s takes about as many iterations as a native one (%i)", (name, expected) => {
    const { r } = run(name, { method: "cg", preconditioner: "jacobi" });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeGreaterThan(expected * 0.8);
    expect(r.iterations).toBeLessThan(expected * 1.2);
  });

  it("cage5 and bfwa62: BiCGSTAB+Jacobi converge in about the README's counts (10, 55)", () => {
    expect(run("cage5", { method: "bicgstab", preconditioner: "jacobi" }).r.iterations).toBeLessThan(20);
    expect(run("bfwa62", { method: "bicgstab", preconditioner: "jacobi" }).r.iterations).toBeLessThan(100);
  });

  it("bcsstk13: plain Jacobi does not converge, and says so", () => {
    const { r } = run("bcsstk13", { method: "jacobi", maxIter: 500 });
    expect(r.converged).toBe(false);
    expect(r.reason).not.toBe("converged");
    expect(r.relResidual).toBeGreaterThan(TOL);
  });

  it("bcsstk13: CG+IC(0) needs a diagonal shift and says so in methodPath", () => {
    const { r } = run("bcsstk13", { method: "cg", preconditioner: "ic0" });
    expect(r.converged).toBe(true);
    expect(r.methodPath[0]).toMatch(/^cg\+ic0\(shift=/);
    expect(r.stages?.[0]?.note).toMatch(/broke down/);
  });

  it("dwt_878 (singular 0/1 pattern matrix): direct refuses honestly with reason singular", () => {
    const { r } = run("dwt_878", { method: "direct" });
    expect(r.converged).toBe(false);
    expect(r.reason).toBe("singular");
  });
});
