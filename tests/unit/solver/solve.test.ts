import { describe, expect, it } from "vitest";
import { SolverError } from "../../../src/core/solver/errors.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { IterationUpdate, SolveOptions } from "../../../src/core/solver/types.ts";
import { denseToCsr, loadMatrix, multiply, ones } from "./helpers.ts";

const bus = loadMatrix("494_bus");
const busB = multiply(bus, ones(bus.rows));
const base: SolveOptions = { method: "cg", preconditioner: "jacobi", tol: 1e-8, maxIter: 5000 };

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SolverError) return e.code;
    throw e;
  }
  return "no error";
}

describe("solve(): streaming, cancellation, limits", () => {
  it("streams an update every updateEvery iterations, plus a final one, with x_partial copies", () => {
    const updates: IterationUpdate[] = [];
    const r = solve(bus, busB, {
      ...base,
      updateEvery: 25,
      includeXPartial: true,
      onUpdate: (u) => updates.push(u),
    });
    expect(r.converged).toBe(true);
    const periodic = updates.slice(0, -1);
    expect(periodic.length).toBe(Math.floor(r.iterations / 25));
    periodic.forEach((u, i) => {
      expect(u.type).toBe("iteration_update");
      expect(u.iteration).toBe(25 * (i + 1));
      expect(u.method).toBe("cg+jacobi");
      expect(u.residual_norm).toBeGreaterThan(0);
      expect(Number.isFinite(u.convergence_rate)).toBe(true);
      expect(u.performance.flops).toBeGreaterThan(2 * 1080);
      expect(u.performance.memory_bytes).toBeGreaterThan(12 * 1080);
      expect(u.performance.iteration_time_ms).toBeGreaterThanOrEqual(0);
      expect(u.x_partial?.length).toBe(bus.rows);
    });
    // Copies, not views: a later iterate must not have overwritten an earlier snapshot.
    expect(periodic[0]!.x_partial).not.toEqual(periodic.at(-1)!.x_partial);
    const last = updates.at(-1)!;
    expect(last.iteration).toBe(r.iterations);
    expect(last.residual_norm).toBe(r.relResidual);
    expect(last.x_partial).toEqual(r.x);
    // The residual is going down on average: the rate over the run is below 1.
    expect(periodic.at(-1)!.residual_norm).toBeLessThan(periodic[0]!.residual_norm);
  });

  it("GMRES streams x_partial mid-cycle (formed on demand from the Krylov basis)", () => {
    const updates: IterationUpdate[] = [];
    const r = solve(bus, busB, {
      ...base,
      method: "gmres",
      preconditioner: "ilu0",
      restart: 100,
      updateEvery: 7,
      includeXPartial: true,
      onUpdate: (u) => updates.push(u),
    });
    expect(r.converged).toBe(true);
    const mid = updates[2]!;
    const res = multiply(bus, mid.x_partial!);
    let num = 0;
    let den = 0;
    for (let i = 0; i < bus.rows; i++) {
      num += (busB[i]! - res[i]!) ** 2;
      den += busB[i]! ** 2;
    }
    expect(Math.sqrt(num / den)).toBeCloseTo(mid.residual_norm, 6);
  });

  it("cancels through the AbortSignal (checked every iteration) and reports it", () => {
    const controller = new AbortController();
    let seen = 0;
    const r = solve(bus, busB, {
      ...base,
      updateEvery: 10,
      signal: controller.signal,
      onUpdate: () => {
        if (++seen === 3) controller.abort();
      },
    });
    expect(r.converged).toBe(false);
    expect(r.reason).toBe("cancelled");
    expect(r.iterations).toBe(30);
    expect(r.relResidual).toBeGreaterThan(1e-8);
  });

  it("an already-aborted signal returns at once", () => {
    const controller = new AbortController();
    controller.abort();
    const r = solve(bus, busB, { ...base, method: "hybrid", signal: controller.signal });
    expect(r.reason).toBe("cancelled");
    expect(r.iterations).toBe(0);
  });

  it("stops at timeLimitMs with reason time_limit", () => {
    const bc = loadMatrix("bcsstk13");
    const b = multiply(bc, ones(bc.rows));
    const r = solve(bc, b, {
      ...base,
      method: "gauss_seidel",
      maxIter: 1e9,
      stagnationWindow: 1e9,
      timeLimitMs: 50,
    });
    expect(r.reason).toBe("time_limit");
    expect(r.converged).toBe(false);
    expect(r.ms).toBeLessThan(2000);
  });

  it("maxIter is honoured and reported", () => {
    const r = solve(bus, busB, { ...base, maxIter: 17 });
    expect(r.iterations).toBe(17);
    expect(r.reason).toBe("max_iterations");
  });

  it("b = 0 gives x = 0 immediately", () => {
    const r = solve(bus, new Float64Array(bus.rows), base);
    expect(r.converged).toBe(true);
    expect(r.x.every((v) => v === 0)).toBe(true);
  });

  it("extreme ‖b‖ (1e-200 and 1e200) is solved by rescaling, not lost to underflow/overflow", () => {
    for (const s of [1e-200, 1e200]) {
      const b = busB.map((v) => v * s);
      const r = solve(bus, b, base);
      expect(r.converged, `scale ${s}`).toBe(true);
      expect(r.x[0]! / s).toBeCloseTo(1, 4);
    }
  });
});

describe("solve(): bad input gets a coded SolverError", () => {
  const rect = {
    rows: 2,
    cols: 3,
    rowPtr: Int32Array.from([0, 1, 2]),
    colIdx: Int32Array.from([0, 1]),
    values: Float64Array.from([1, 1]),
  };
  const small = denseToCsr(2, Float64Array.from([2, 1, 1, 0]));
  it.each([
    ["not_square", () => solve(rect, new Float64Array(2), base)],
    ["dimension_mismatch", () => solve(bus, new Float64Array(3), base)],
    [
      "non_finite_rhs",
      () =>
        solve(
          bus,
          busB.map((v, i) => (i === 5 ? NaN : v)),
          base,
        ),
    ],
    ["non_finite_guess", () => solve(bus, busB, { ...base, x0: new Float64Array(bus.rows).fill(Infinity) })],
    ["dimension_mismatch", () => solve(bus, busB, { ...base, x0: new Float64Array(2) })],
    ["invalid_option", () => solve(bus, busB, { ...base, tol: -1 })],
    ["invalid_option", () => solve(bus, busB, { ...base, maxIter: 1.5 })],
    ["invalid_option", () => solve(bus, busB, { ...base, maxIter: 0 })],
    ["invalid_option", () => solve(bus, busB, { ...base, method: "cg", preconditioner: "ilu0" })],
    ["invalid_option", () => solve(bus, busB, { ...base, relaxation: 2.5 })],
    ["unknown_method", () => solve(bus, busB, { ...base, method: "magic" as SolveOptions["method"] })],
    ["zero_diagonal", () => solve(small, Float64Array.from([1, 1]), { ...base, method: "jacobi" })],
    ["too_large_for_direct", () => solve(bus, busB, { ...base, method: "direct", directMaxN: 100 })],
    ["fill_too_large", () => solve(bus, busB, { ...base, method: "direct", directMaxFill: 1000 })],
  ])("%s", (code, f) => {
    expect(codeOf(f)).toBe(code);
  });

  it("a non-finite matrix value is refused", () => {
    const bad = { ...small, values: Float64Array.from([2, NaN, 1]) };
    expect(codeOf(() => solve(bad, Float64Array.from([1, 1]), base))).toBe("non_finite_matrix");
  });
});
