import { describe, expect, it } from "vitest";
import { SolverError } from "../../../src/core/solver/errors.ts";
import { singularityOf } from "../../../src/core/solver/singularity.ts";
import { solve, ZERO_RHS_STAGE } from "../../../src/core/solver/solve.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { denseToCsr, loadMatrix, multiply, ones, SUITE } from "./helpers.ts";

const options = { method: "hybrid", tol: 1e-8, maxIter: 1000 } as const;

/** The matrix a user uploaded in issue 11: 3×3, every entry stored as an explicit 0. */
const zero3: CsrMatrix = {
  rows: 3,
  cols: 3,
  rowPtr: Int32Array.from([0, 3, 6, 9]),
  colIdx: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2]),
  values: new Float64Array(9),
};

function errorOf(f: () => unknown): SolverError {
  try {
    f();
  } catch (e) {
    if (e instanceof SolverError) return e;
    throw e;
  }
  throw new Error("expected a SolverError");
}

describe("b = 0 answers x = 0 at once, and says why", () => {
  for (const method of ["hybrid", "cg", "gmres", "jacobi", "direct"] as const) {
    it(`${method}: the zero matrix with b = A·1 = 0`, () => {
      const r = solve(zero3, new Float64Array(3), { ...options, method });
      expect(r.converged).toBe(true);
      expect([...r.x]).toEqual([0, 0, 0]);
      expect(r.iterations).toBe(0);
      expect(r.methodPath).toEqual([ZERO_RHS_STAGE.label]);
      expect(r.stages?.[0]?.note).toMatch(/right-hand side is zero/);
    });
  }
});

describe("a provably singular A with b ≠ 0 is an error that names the problem", () => {
  it("the zero matrix", () => {
    const e = errorOf(() => solve(zero3, ones(3), options));
    expect(e.code).toBe("singular_matrix");
    expect(e.message).toMatch(/zero matrix \(3×3/);
  });

  it("a zero row (row 2, 1-based)", () => {
    const a = denseToCsr(3, Float64Array.from([4, 1, 0, 0, 0, 0, 1, 0, 4]));
    expect(errorOf(() => solve(a, ones(3), options)).message).toMatch(/row 2 of A is zero/);
  });

  it("a zero column (column 3, 1-based)", () => {
    const a = denseToCsr(3, Float64Array.from([4, 1, 0, 1, 4, 0, 1, 1, 0]));
    expect(errorOf(() => solve(a, ones(3), options)).message).toMatch(/column 3 of A is zero/);
  });

  it("a structurally singular pattern: two rows that only reach column 1", () => {
    // Rows 1 and 2 have nonzeros in column 1 only: no row/column pairing exists, whatever the values.
    const a = denseToCsr(3, Float64Array.from([2, 0, 0, 3, 0, 0, 1, 1, 1]));
    const message = singularityOf(a);
    // No row or column is zero (row 3 fills columns 2 and 3), so only the matching can tell.
    expect(message).toMatch(/structurally singular.*rank at most 2 of 3/);
    expect(errorOf(() => solve(a, ones(3), options)).code).toBe("singular_matrix");
  });
});

describe("no false alarms", () => {
  it("a permutation matrix (an empty diagonal) is not called singular", () => {
    const a = denseToCsr(3, Float64Array.from([0, 1, 0, 0, 0, 1, 1, 0, 0]));
    expect(singularityOf(a)).toBeNull();
  });

  it.each(SUITE)("%s is not called singular", (name) => {
    expect(singularityOf(loadMatrix(name))).toBeNull();
  });

  it("494_bus still solves", () => {
    const a = loadMatrix("494_bus");
    expect(solve(a, multiply(a, ones(a.rows)), options).converged).toBe(true);
  });
});
