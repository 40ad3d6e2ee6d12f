import { describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { entryPosition, isSymmetric } from "../../../src/core/sparse/structure.ts";

/** [[2, 1], [1 + 1e-14, 3]]: symmetric up to rounding. */
const nearlySymmetric: CsrMatrix = {
  rows: 2,
  cols: 2,
  rowPtr: Int32Array.from([0, 2, 4]),
  colIdx: Int32Array.from([0, 1, 0, 1]),
  values: Float64Array.from([2, 1, 1 + 1e-14, 3]),
};

/** [[2, 0], [1, 3]]: a_10 stored, a_01 not. */
const oneSided: CsrMatrix = {
  rows: 2,
  cols: 2,
  rowPtr: Int32Array.from([0, 1, 3]),
  colIdx: Int32Array.from([0, 0, 1]),
  values: Float64Array.from([2, 1, 3]),
};

describe("entryPosition", () => {
  it("finds a stored entry and answers -1 for one that is not stored", () => {
    expect(entryPosition(oneSided, 1, 0)).toBe(1);
    expect(entryPosition(oneSided, 1, 1)).toBe(2);
    expect(entryPosition(oneSided, 0, 1)).toBe(-1);
  });
});

describe("isSymmetric", () => {
  it("is exact by default and tolerant relative to max|a| when asked", () => {
    expect(isSymmetric(poisson2d(5))).toBe(true);
    expect(isSymmetric(nearlySymmetric)).toBe(false);
    expect(isSymmetric(nearlySymmetric, 1e-12)).toBe(true);
  });

  it("needs the pattern of Aᵀ and a square matrix", () => {
    expect(isSymmetric(oneSided, 1)).toBe(false);
    expect(isSymmetric({ ...poisson2d(2), cols: 5 })).toBe(false);
  });
});
