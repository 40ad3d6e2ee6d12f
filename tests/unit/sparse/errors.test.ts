import { describe, expect, it } from "vitest";
import { InputError, isInputError } from "../../../src/core/sparse/errors.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { parseMatrixMarket, parseMatrixMarketVector } from "../../../src/core/sparse/matrix-market.ts";
import { multiply } from "../../../src/core/sparse/ops.ts";
import { expectInputError } from "./helpers.ts";

const GENERAL = "%%MatrixMarket matrix coordinate real general";
const mm = (...lines: string[]): string => lines.join("\n") + "\n";

describe("Matrix Market errors: one specific code per kind of bad input", () => {
  it("malformed_header: no banner", () => {
    const e = expectInputError(() => parseMatrixMarket(mm("3 3 1", "1 1 1")), "malformed_header");
    expect(e.message).toContain("line 1");
    expect(e.message).toContain("%%MatrixMarket");
  });

  it("malformed_header: banner with missing words", () => {
    expectInputError(
      () => parseMatrixMarket(mm("%%MatrixMarket matrix coordinate real", "1 1 1", "1 1 1")),
      "malformed_header",
    );
  });

  it("malformed_header: size line with two numbers for a coordinate matrix, with its line number", () => {
    const e = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "% c", "3 3", "1 1 1")),
      "malformed_header",
    );
    expect(e.details).toMatchObject({ line: 3 });
    expect(e.message).toContain("rows cols nnz");
  });

  it("malformed_header: missing size line", () => {
    expectInputError(() => parseMatrixMarket(mm(GENERAL, "% only comments")), "malformed_header");
  });

  it("unsupported_format: complex field, hermitian symmetry, dense array matrix, vector object", () => {
    const complex = expectInputError(
      () => parseMatrixMarket(mm("%%MatrixMarket matrix coordinate complex general", "1 1 1", "1 1 1 0")),
      "unsupported_format",
    );
    expect(complex.message).toContain('"complex"');
    expect(complex.details).toMatchObject({ found: "complex" });
    expectInputError(
      () => parseMatrixMarket(mm("%%MatrixMarket matrix coordinate real hermitian", "1 1 1", "1 1 1")),
      "unsupported_format",
    );
    expectInputError(
      () => parseMatrixMarket(mm("%%MatrixMarket matrix array real general", "1 1", "1")),
      "unsupported_format",
    );
    expectInputError(
      () => parseMatrixMarket(mm("%%MatrixMarket vector coordinate real general", "1 1", "1 1")),
      "unsupported_format",
    );
  });

  it("not_square: a general rectangular matrix, and a symmetric one", () => {
    const e = expectInputError(() => parseMatrixMarket(mm(GENERAL, "2 3 1", "1 1 1")), "not_square");
    expect(e.details).toEqual({ rows: 2, cols: 3 });
    expectInputError(
      () =>
        parseMatrixMarket(mm("%%MatrixMarket matrix coordinate real symmetric", "2 3 1", "1 1 1"), {
          allowRectangular: true,
        }),
      "not_square",
    );
  });

  it("index_out_of_range: row 0, column beyond cols, with the line", () => {
    const zero = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "2 2 2", "1 1 1", "0 1 1")),
      "index_out_of_range",
    );
    expect(zero.details).toMatchObject({ line: 4, index: 0, min: 1, max: 2 });
    const big = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "2 2 1", "1 3 1")),
      "index_out_of_range",
    );
    expect(big.message).toContain("column index 3");
  });

  it("count_mismatch: fewer entry lines than nnz", () => {
    const e = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "2 2 3", "1 1 1", "2 2 1")),
      "count_mismatch",
    );
    expect(e.details).toMatchObject({ expected: 3, actual: 2 });
  });

  it("count_mismatch: more entry lines than nnz", () => {
    const e = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "2 2 1", "1 1 1", "2 2 1", "2 1 1")),
      "count_mismatch",
    );
    expect(e.details).toMatchObject({ expected: 1, actual: 3, line: 4 });
  });

  it("non_finite: NaN, Inf and an overflowing literal", () => {
    for (const bad of ["NaN", "inf", "-Infinity", "1e999"]) {
      const e = expectInputError(() => parseMatrixMarket(mm(GENERAL, "1 1 1", `1 1 ${bad}`)), "non_finite");
      expect(e.details).toMatchObject({ line: 3, value: bad });
    }
  });

  it("non_finite: duplicates that sum past the double range", () => {
    expectInputError(() => parseMatrixMarket(mm(GENERAL, "1 1 2", "1 1 1e308", "1 1 1e308")), "non_finite");
  });

  it("vector_length: multiply with a wrong-length x, and a 2×2 'vector'", () => {
    expectInputError(() => multiply(poisson2d(2), new Float64Array(3)), "vector_length");
    expectInputError(
      () =>
        parseMatrixMarketVector(mm("%%MatrixMarket matrix array real general", "2 2", "1", "2", "3", "4")),
      "vector_length",
    );
  });

  it("too_large: declared rows or nnz beyond the limits, before allocating", () => {
    const rows = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "1000000000 1000000000 1")),
      "too_large",
    );
    expect(rows.details).toMatchObject({ limit: "maxRows" });
    const nnz = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "10 10 11", "1 1 1"), { maxNnz: 10 }),
      "too_large",
    );
    expect(nnz.details).toEqual({ limit: "maxNnz", value: 11, max: 10 });
  });

  it("too_large: a symmetric file whose expansion exceeds maxNnz", () => {
    const e = expectInputError(
      () =>
        parseMatrixMarket(
          mm("%%MatrixMarket matrix coordinate real symmetric", "3 3 3", "2 1 1", "3 1 1", "3 2 1"),
          {
            maxNnz: 5,
          },
        ),
      "too_large",
    );
    expect(e.details).toMatchObject({ value: 6 });
  });

  it("parse_error: junk value, missing value, extra token, non-integer index, with line numbers", () => {
    const junk = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "2 2 2", "1 1 1", "2 2 abc")),
      "parse_error",
    );
    expect(junk.details).toMatchObject({ line: 4, found: "abc" });
    expect(junk.message).toMatch(/^line 4: /);
    const missing = expectInputError(() => parseMatrixMarket(mm(GENERAL, "1 1 1", "1 1")), "parse_error");
    expect(missing.message).toContain("line 3");
    const extra = expectInputError(() => parseMatrixMarket(mm(GENERAL, "1 1 1", "1 1 2 3")), "parse_error");
    expect(extra.message).toContain('"3"');
    const fractional = expectInputError(
      () => parseMatrixMarket(mm(GENERAL, "2 2 1", "1.5 1 2")),
      "parse_error",
    );
    expect(fractional.message).toContain("row index");
    expectInputError(() => parseMatrixMarket(mm(GENERAL, "1 1 1", "1 1 1.2.3")), "parse_error");
    expectInputError(() => parseMatrixMarket(mm(GENERAL, "1 1 1", "1 1 0x10")), "parse_error");
  });

  it("parse_error: a symmetric file storing both triangles, a non-zero skew diagonal, a fractional integer", () => {
    const both = expectInputError(
      () =>
        parseMatrixMarket(mm("%%MatrixMarket matrix coordinate real symmetric", "2 2 2", "2 1 1", "1 2 1")),
      "parse_error",
    );
    expect(both.message).toContain("one triangle");
    expectInputError(
      () => parseMatrixMarket(mm("%%MatrixMarket matrix coordinate real skew-symmetric", "2 2 1", "1 1 3")),
      "parse_error",
    );
    expectInputError(
      () => parseMatrixMarket(mm("%%MatrixMarket matrix coordinate integer general", "1 1 1", "1 1 2.5")),
      "parse_error",
    );
  });

  it("InputError is a real Error with a JSON form and a type guard", () => {
    const e = new InputError("vector_length", "b has 3 entries", { expected: 4, actual: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(isInputError(e)).toBe(true);
    expect(isInputError(new Error("x"))).toBe(false);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: "vector_length",
      message: "b has 3 entries",
      details: { expected: 4, actual: 3 },
    });
  });
});
