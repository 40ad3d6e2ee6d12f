import { describe, expect, it } from "vitest";
import { verifySolveResult } from "../../../src/core/jobs/verify.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { loadMatrix } from "./helpers.ts";

const TOL = 1e-8;

function multiply(a: CsrMatrix, v: Float64Array): Float64Array {
  const y = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) y[i] = y[i]! + a.values[k]! * v[a.colIdx[k]!]!;
  }
  return y;
}

describe("verifySolveResult on 494_bus", () => {
  const a = loadMatrix("494_bus");
  const b = multiply(a, new Float64Array(a.rows).fill(1));
  const solved = solve(a, b, { method: "cg", preconditioner: "ic0", tol: TOL, maxIter: 2000 });

  it("accepts a real solution with the requester's own residual", () => {
    const v = verifySolveResult(a, b, solved.x, TOL);
    expect(v).toEqual({ ok: true, relResidual: relativeResidual(a, solved.x, b), code: null, reason: null });
    expect(v.relResidual).toBeLessThanOrEqual(TOL);
  });

  it("rejects perturbed, non-finite and mis-sized answers with a code", () => {
    const perturbed = solved.x.map((v, i) => (i === 100 ? v * 1.001 : v));
    const p = verifySolveResult(a, b, perturbed, TOL);
    expect(p.ok).toBe(false);
    expect(p.code).toBe("above_tolerance");
    expect(p.relResidual).toBeGreaterThan(TOL);
    expect(p.reason).toMatch(/above the tolerance/);

    const nan = solved.x.slice();
    nan[3] = NaN;
    expect(verifySolveResult(a, b, nan, TOL)).toMatchObject({ ok: false, code: "non_finite" });
    expect(verifySolveResult(a, b, solved.x.subarray(1), TOL)).toMatchObject({
      ok: false,
      code: "dimension_mismatch",
    });
    // A made-up x of zeros: residual 1.
    expect(verifySolveResult(a, b, new Float64Array(a.rows), TOL)).toMatchObject({
      ok: false,
      relResidual: 1,
    });
  });

  it("catches a non-finite entry that no row reads", () => {
    // Column 1 is empty: the residual cannot see x[1].
    const m: CsrMatrix = {
      rows: 2,
      cols: 2,
      rowPtr: Int32Array.from([0, 1, 2]),
      colIdx: Int32Array.from([0, 0]),
      values: Float64Array.from([1, 1]),
    };
    const x = Float64Array.from([1, Infinity]);
    expect(verifySolveResult(m, Float64Array.from([1, 1]), x, TOL)).toMatchObject({
      ok: false,
      code: "non_finite",
    });
  });
});
