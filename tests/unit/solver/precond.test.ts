import { describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { ic0Preconditioner } from "../../../src/core/solver/precond/ic0.ts";
import { ilu0Preconditioner } from "../../../src/core/solver/precond/ilu0.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { SolveOptions } from "../../../src/core/solver/types.ts";
import { denseToCsr, multiply, ones } from "./helpers.ts";

/** Tridiagonal: its Cholesky/LU factors have no fill, so IC(0) and ILU(0) are exact factorisations. */
function tridiagonal(n: number, symmetric: boolean): CsrMatrix {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    d[i * n + i] = 2 + (i % 3) * 0.5;
    if (i > 0) d[i * n + i - 1] = -1;
    if (i + 1 < n) d[i * n + i + 1] = symmetric ? -1 : -0.3;
  }
  return denseToCsr(n, d);
}

describe("incomplete factorisations", () => {
  it("IC(0) and ILU(0) of a tridiagonal matrix are exact: one Krylov iteration suffices", () => {
    const spd = tridiagonal(50, true);
    const nonsym = tridiagonal(50, false);
    const cases: [CsrMatrix, Partial<SolveOptions>][] = [
      [spd, { method: "cg", preconditioner: "ic0" }],
      [spd, { method: "gmres", preconditioner: "ilu0" }],
      [nonsym, { method: "bicgstab", preconditioner: "ilu0" }],
      [nonsym, { method: "gmres", preconditioner: "ilu0" }],
    ];
    for (const [a, o] of cases) {
      const b = multiply(a, ones(a.rows));
      const r = solve(a, b, { tol: 1e-12, maxIter: 10, ...o } as SolveOptions);
      expect(r.converged, JSON.stringify(o)).toBe(true);
      expect(r.iterations, JSON.stringify(o)).toBe(1);
    }
  });

  it("M⁻¹ applied to A·v gives v back for an exact factorisation", () => {
    const a = tridiagonal(30, false);
    const v = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i));
    const z = new Float64Array(30);
    ilu0Preconditioner(a)!.apply(multiply(a, v), z);
    z.forEach((zi, i) => expect(zi).toBeCloseTo(v[i]!, 12));
    ic0Preconditioner(tridiagonal(30, true))!.apply(multiply(tridiagonal(30, true), v), z);
    z.forEach((zi, i) => expect(zi).toBeCloseTo(v[i]!, 12));
  });

  it("IC(0) on an indefinite symmetric matrix shifts and names the shift; impossible cases return null", () => {
    // Positive diagonal, but indefinite (eigenvalues 1 ± 2): the plain factorisation breaks down.
    const indefinite = denseToCsr(2, Float64Array.from([1, 2, 2, 1]));
    const pre = ic0Preconditioner(indefinite);
    expect(pre?.name).toMatch(/^ic0\(shift=/);
    expect(pre?.note).toMatch(/broke down/);
    expect(ic0Preconditioner(denseToCsr(2, Float64Array.from([-1, 0, 0, 1])))).toBeNull();
  });
});
