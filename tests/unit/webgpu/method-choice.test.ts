import { describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { isWebGpuSolverError } from "../../../kernels/webgpu/errors.ts";
import { isSymmetric } from "../../../src/core/sparse/structure.ts";
import { chooseMethod } from "../../../kernels/webgpu/method-choice.ts";
import { parseNumericOptions, validateSystem } from "../../../kernels/webgpu/validate.ts";

/** [[4, 1, 0], [2, 5, 1], [0, 1, 3]]: nonsymmetric, positive diagonal. */
const nonsym: CsrMatrix = {
  rows: 3,
  cols: 3,
  rowPtr: Int32Array.from([0, 2, 5, 7]),
  colIdx: Int32Array.from([0, 1, 0, 1, 2, 1, 2]),
  values: Float64Array.from([4, 1, 2, 5, 1, 1, 3]),
};

/** [[0, 1], [1, 2]]: symmetric, zero diagonal in row 0. */
const zeroDiag: CsrMatrix = {
  rows: 2,
  cols: 2,
  rowPtr: Int32Array.from([0, 1, 3]),
  colIdx: Int32Array.from([1, 0, 1]),
  values: Float64Array.from([1, 1, 2]),
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isWebGpuSolverError(e) ? e.code : `not a WebGpuSolverError: ${String(e)}`;
  }
  return undefined;
}

describe("chooseMethod", () => {
  it("hybrid/auto picks CG for an SPD-looking matrix and BiCGSTAB otherwise", () => {
    expect(chooseMethod(poisson2d(4), { method: "hybrid" }).method).toBe("cg");
    expect(chooseMethod(poisson2d(4), { method: "auto" }).method).toBe("cg");
    expect(chooseMethod(nonsym, { method: "hybrid" }).method).toBe("bicgstab");
  });

  it("builds D⁻¹ for the Jacobi preconditioner, ones without it", () => {
    const withJ = chooseMethod(poisson2d(3), { method: "cg" });
    expect(withJ.label).toBe("cg+jacobi");
    expect(Array.from(withJ.dinv)).toEqual(Array(9).fill(0.25));
    const none = chooseMethod(poisson2d(3), { method: "cg", preconditioner: "none" });
    expect(none.label).toBe("cg+none");
    expect(Array.from(none.dinv)).toEqual(Array(9).fill(1));
  });

  it("scales the stationary update by the relaxation factor", () => {
    const c = chooseMethod(poisson2d(3), { method: "jacobi", relaxation: 0.5 });
    expect(c.dinv[0]).toBeCloseTo(0.125, 7);
    expect(c.label).toBe("jacobi(ω=0.5)");
    expect(codeOf(() => chooseMethod(poisson2d(3), { method: "jacobi", relaxation: 2.5 }))).toBe(
      "invalid_input",
    );
  });

  it("refuses what has no GPU kernel with unsupported_method", () => {
    expect(codeOf(() => chooseMethod(poisson2d(3), { method: "gmres" }))).toBe("unsupported_method");
    expect(codeOf(() => chooseMethod(poisson2d(3), { method: "direct" }))).toBe("unsupported_method");
    expect(codeOf(() => chooseMethod(poisson2d(3), { method: "cg", preconditioner: "ic0" }))).toBe(
      "unsupported_method",
    );
    expect(
      codeOf(() => chooseMethod(poisson2d(3), { method: "gauss_seidel", gsVariant: "sequential" })),
    ).toBe("unsupported_method");
  });

  it("needs a nonzero diagonal for stationary methods; Krylov methods use 1 there", () => {
    expect(codeOf(() => chooseMethod(zeroDiag, { method: "jacobi" }))).toBe("zero_diagonal");
    expect(codeOf(() => chooseMethod(zeroDiag, { method: "gauss_seidel" }))).toBe("zero_diagonal");
    expect(Array.from(chooseMethod(zeroDiag, { method: "bicgstab" }).dinv)).toEqual([1, 0.5]);
  });
});

describe("isSymmetric", () => {
  it("checks pattern and values", () => {
    expect(isSymmetric(poisson2d(5))).toBe(true);
    expect(isSymmetric(nonsym)).toBe(false);
    expect(isSymmetric(zeroDiag)).toBe(true);
  });
});

describe("validateSystem / parseNumericOptions", () => {
  const a = poisson2d(3);
  const b = new Float64Array(9).fill(1);

  it("accepts a valid system", () => {
    expect(() => validateSystem(a, b, undefined)).not.toThrow();
  });

  it("rejects broken CSR, vectors and options with invalid_input", () => {
    const cases: (() => unknown)[] = [
      () => validateSystem({ ...a, cols: 8 }, b, undefined),
      () => validateSystem({ ...a, colIdx: a.colIdx.map((c, k) => (k === 0 ? -1 : c)) }, b, undefined),
      () =>
        validateSystem({ ...a, values: a.values.map((v, k) => (k === 2 ? Number.NaN : v)) }, b, undefined),
      () =>
        validateSystem({ ...a, rowPtr: Int32Array.from([0, 3, 2, 8, 11, 15, 18, 21, 24, 33]) }, b, undefined),
      () => validateSystem(a, b.subarray(1), undefined),
      () =>
        validateSystem(
          a,
          b.map((v, i) => (i === 4 ? Infinity : v)),
          undefined,
        ),
      () => validateSystem(a, b, new Float64Array(3)),
      () => parseNumericOptions({ tol: 0, maxIter: 10 }),
      () => parseNumericOptions({ tol: 1e-8, maxIter: 1.5 }),
      () => parseNumericOptions({ tol: 1e-8, maxIter: 10, checkEvery: 9 }),
      () => parseNumericOptions({ tol: 1e-8, maxIter: 10, innerTol: 1 }),
    ];
    for (const c of cases) expect(codeOf(c)).toBe("invalid_input");
  });
});
