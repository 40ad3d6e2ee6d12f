import { describe, expect, it } from "vitest";
import { fromCsc } from "../../../src/core/sparse/coo.ts";
import { nnzOf } from "../../../src/core/sparse/csr.ts";
import { generateByName, poisson2d, poisson3d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { entry, expectCanonicalCsr, expectInputError } from "./helpers.ts";

describe("Poisson generators", () => {
  it("poisson2d(4): the 5-point stencil, symmetric, row sums 4 - neighbours", () => {
    const a = poisson2d(4);
    expectCanonicalCsr(a);
    expect(a.rows).toBe(16);
    expect(nnzOf(a)).toBe(5 * 16 - 4 * 4);
    expect(entry(a, 5, 5)).toBe(4);
    expect(entry(a, 5, 1)).toBe(-1);
    expect(entry(a, 5, 4)).toBe(-1);
    expect(entry(a, 5, 6)).toBe(-1);
    expect(entry(a, 5, 9)).toBe(-1);
    expect(entry(a, 3, 4)).toBe(0); // end of a grid row: no wrap-around coupling
    const t = fromCsc(a.cols, a.rows, a.rowPtr, a.colIdx, a.values);
    expect(Array.from(t.colIdx)).toEqual(Array.from(a.colIdx));
    // A·1: corners keep 2, edges 1, interior 0.
    expect(Array.from(multiply(a, ones(16)))).toEqual([2, 1, 1, 2, 1, 0, 0, 1, 1, 0, 0, 1, 2, 1, 1, 2]);
  });

  it("poisson3d(3): the 7-point stencil, n = 27, nnz = 7n - 6k^2", () => {
    const a = poisson3d(3);
    expectCanonicalCsr(a);
    expect(a.rows).toBe(27);
    expect(nnzOf(a)).toBe(7 * 27 - 6 * 9);
    expect(entry(a, 13, 13)).toBe(6);
    for (const j of [4, 10, 12, 14, 16, 22]) expect(entry(a, 13, j)).toBe(-1);
    expect(multiply(a, ones(27))[13]).toBe(0);
  });

  it("builds poisson2d-1000 (n = 1e6) and poisson3d-100 (n = 1e6) by name", () => {
    const a = generateByName("poisson2d-1000");
    expect(a?.rows).toBe(1_000_000);
    expect(a === null ? 0 : nnzOf(a)).toBe(5 * 1_000_000 - 4 * 1000);
    const b = generateByName("poisson3d-100");
    expect(b?.rows).toBe(1_000_000);
    expect(b === null ? 0 : nnzOf(b)).toBe(7 * 1_000_000 - 6 * 10_000);
    if (b !== null) expectCanonicalCsr(b);
    expect(generateByName("poisson4d-3")).toBeNull();
  });

  it("rejects bad grid sizes", () => {
    expectInputError(() => poisson2d(0), "parse_error");
    expectInputError(() => poisson3d(2.5), "parse_error");
    expectInputError(() => poisson2d(100_000), "too_large");
  });
});
