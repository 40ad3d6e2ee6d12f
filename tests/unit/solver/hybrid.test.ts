import { describe, expect, it } from "vitest";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { planStages } from "../../../src/core/solver/methods/hybrid.ts";
import { profileMatrix } from "../../../src/core/solver/inspect.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { IterationUpdate } from "../../../src/core/solver/types.ts";
import { loadMatrix, multiply, ones } from "./helpers.ts";

describe("hybrid", () => {
  it("profiles the SuiteSparse matrices and plans by kind", () => {
    const spd = profileMatrix(loadMatrix("494_bus"));
    expect(spd.symmetric && spd.positiveDiagonal).toBe(true);
    expect(planStages(spd).map((s) => `${s.kind}+${s.preconditioner}`)).toEqual([
      "cg+jacobi",
      "cg+ic0",
      "bicgstab+ilu0",
    ]);
    const west = profileMatrix(loadMatrix("west0479"));
    expect(west.symmetric).toBe(false);
    expect(west.zeroDiagonals).toBe(471); // the file stores 8 of 479 diagonal entries
    expect(planStages(west)[0]).toEqual({ kind: "gmres", preconditioner: "ilu0" });
  });

  it("switches on stagnation and continues from the best iterate, never from zero", () => {
    const a = loadMatrix("494_bus");
    const b = multiply(a, ones(a.rows));
    const updates: IterationUpdate[] = [];
    // A short window forces switches long before Jacobi-PCG would have converged (≈ 400 iterations).
    const r = solve(a, b, {
      method: "auto",
      tol: 1e-8,
      maxIter: 5000,
      stagnationWindow: 40,
      updateEvery: 1,
      onUpdate: (u) => updates.push(u),
    });
    expect(r.converged).toBe(true);
    expect(r.methodPath.length).toBeGreaterThan(1);
    expect(r.stages?.[0]?.reason).toBe("stagnated");
    let switches = 0;
    for (let i = 1; i < updates.length - 1; i++) {
      const prev = updates[i - 1]!.method;
      if (updates[i]!.method === prev) continue;
      switches++;
      const prevBest = Math.min(
        ...updates
          .slice(0, i)
          .filter((u) => u.method === prev)
          .map((u) => u.residual_norm),
      );
      // A restart from zero would begin near ‖b − A·0‖/‖b‖ = 1; continuing begins near the previous best.
      expect(updates[i]!.residual_norm, `${prev} -> ${updates[i]!.method}`).toBeLessThan(10 * prevBest);
      expect(prevBest).toBeLessThan(1e-2);
    }
    expect(switches).toBe(r.methodPath.length - 1);
  });

  it("west0479: fails over from ILU(0) Krylov to direct LU and says which path it took", () => {
    const a = loadMatrix("west0479");
    const b = multiply(a, ones(a.rows));
    const r = solve(a, b, { method: "hybrid", tol: 1e-8, maxIter: 20000 });
    expect(r.converged).toBe(true);
    expect(r.methodPath[0]).toBe("gmres(30)+ilu0");
    expect(r.methodPath.at(-1)).toBe("direct");
    expect(r.stages?.slice(0, -1).every((s) => s.reason !== "converged")).toBe(true);
  });

  it("a failed hybrid reports converged:false, a reason, the certified best residual and the path", () => {
    const a = loadMatrix("bcsstk13");
    const b = multiply(a, ones(a.rows));
    const r = solve(a, b, { method: "hybrid", tol: 1e-8, maxIter: 60, directMaxN: 1000 });
    expect(r.converged).toBe(false);
    expect(r.reason).toBe("max_iterations");
    expect(r.iterations).toBe(60);
    expect(r.bestResidual).toBe(relativeResidual(a, r.x, b));
    expect(r.bestResidual).toBeGreaterThan(1e-8);
    expect(r.methodPath).toEqual(["cg+jacobi", "direct"]);
    expect(r.stages?.at(-1)?.note).toMatch(/direct skipped: n = 2003 > 1000/);
  });

  it("a direct fallback refused for fill is reported, not thrown", () => {
    const a = loadMatrix("bcsstk13");
    const b = multiply(a, ones(a.rows));
    const r = solve(a, b, { method: "hybrid", tol: 1e-8, maxIter: 30, directMaxFill: 10_000 });
    expect(r.converged).toBe(false);
    expect(r.stages?.at(-1)?.note).toMatch(/estimated LU fill .* exceeds the limit/);
  });
});
