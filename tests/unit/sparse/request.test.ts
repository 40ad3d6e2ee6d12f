import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { csrToCoo } from "../../../src/core/sparse/coo.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { parseMatrixMarket } from "../../../src/core/sparse/matrix-market.ts";
import { matrixRequestSchema } from "../../../src/core/protocol/solve-request.ts";
import {
  parseLinearSystemRequest,
  parseMatrixRequest,
} from "../../../src/core/sparse/linear-system-request.ts";
import { expectCanonicalCsr, expectInputError, matricesDir } from "./helpers.ts";

/**
 * A 3×3 matrix with a duplicate (0,1) entry (1 + 1 = 2) and an unsorted row, in all three formats:
 *   [ 4 2 0 ]
 *   [ 0 5 -1 ]
 *   [ 3 0 6 ]
 */
const CSR = {
  rows: 3,
  cols: 3,
  nnz: 7,
  format: "csr",
  data: { row_pointers: [0, 3, 5, 7], col_indices: [1, 0, 1, 2, 1, 2, 0], values: [1, 4, 1, -1, 5, 6, 3] },
};
const CSC = {
  rows: 3,
  cols: 3,
  nnz: 7,
  format: "csc",
  data: { col_pointers: [0, 2, 5, 7], row_indices: [2, 0, 1, 0, 0, 2, 1], values: [3, 4, 5, 1, 1, 6, -1] },
};
const COO = {
  rows: 3,
  cols: 3,
  nnz: 7,
  format: "coo",
  data: {
    row_indices: [2, 0, 1, 0, 1, 2, 0],
    col_indices: [2, 1, 2, 0, 1, 0, 1],
    values: [6, 1, -1, 4, 5, 3, 1],
  },
};
const EXPECTED = { rowPtr: [0, 2, 4, 6], colIdx: [0, 1, 1, 2, 0, 2], values: [4, 2, 5, -1, 3, 6] };

function plain(a: CsrMatrix): { rowPtr: number[]; colIdx: number[]; values: number[] } {
  return { rowPtr: Array.from(a.rowPtr), colIdx: Array.from(a.colIdx), values: Array.from(a.values) };
}

describe("parseMatrixRequest: csr, csc and coo describe the same matrix", () => {
  it("all three formats give the same canonical CSR (duplicates summed, rows sorted)", () => {
    for (const req of [CSR, CSC, COO]) {
      const a = parseMatrixRequest(req);
      expectCanonicalCsr(a);
      expect(plain(a), req.format).toEqual(EXPECTED);
    }
  });

  it("infers the format when it is omitted and the index arrays name exactly one", () => {
    const { format: _f, ...noFormat } = CSC;
    expect(plain(parseMatrixRequest(noFormat))).toEqual(EXPECTED);
  });

  it("agrees with the Matrix Market reader on a real matrix (cage5) in all three formats", () => {
    const a = parseMatrixMarket(readFileSync(join(matricesDir, "cage5.mtx"), "utf8"));
    const coo = csrToCoo(a);
    const nnz = coo.values.length;
    // CSC of A = CSR of Aᵀ: sort the triplets by column.
    const order = Array.from({ length: nnz }, (_, k) => k).sort(
      (p, q) => coo.colIdx[p]! - coo.colIdx[q]! || coo.rowIdx[p]! - coo.rowIdx[q]!,
    );
    const colPointers = new Array<number>(a.cols + 1).fill(0);
    for (const c of coo.colIdx) colPointers[c + 1]!++;
    for (let j = 0; j < a.cols; j++) colPointers[j + 1]! += colPointers[j]!;
    const requests = [
      {
        rows: a.rows,
        cols: a.cols,
        nnz,
        format: "csr",
        data: {
          row_pointers: Array.from(a.rowPtr),
          col_indices: Array.from(a.colIdx),
          values: Array.from(a.values),
        },
      },
      {
        rows: a.rows,
        cols: a.cols,
        nnz,
        format: "csc",
        data: {
          col_pointers: colPointers,
          row_indices: order.map((k) => coo.rowIdx[k]!),
          values: order.map((k) => coo.values[k]!),
        },
      },
      {
        rows: a.rows,
        cols: a.cols,
        nnz,
        format: "coo",
        // Reversed order: the parser must not depend on input order.
        data: {
          row_indices: Array.from(coo.rowIdx).reverse(),
          col_indices: Array.from(coo.colIdx).reverse(),
          values: Array.from(coo.values).reverse(),
        },
      },
    ];
    for (const req of requests) expect(plain(parseMatrixRequest(req)), req.format).toEqual(plain(a));
  });

  it("returns b when present and accepts typed arrays", () => {
    const sys = parseLinearSystemRequest({ ...COO, b: Float64Array.from([1, 2, 3]) });
    expect(Array.from(sys.b ?? [])).toEqual([1, 2, 3]);
    expect(parseLinearSystemRequest(COO).b).toBeNull();
  });

  it("exports the zod schema for reuse (extendable, shape-only)", () => {
    const extended = matrixRequestSchema.extend({ tol: matrixRequestSchema.shape.rows.optional() });
    expect(extended.safeParse({ ...CSR, tol: 3 }).success).toBe(true);
    expect(matrixRequestSchema.safeParse({ ...CSR, rows: -1 }).success).toBe(false);
  });
});

describe("parseMatrixRequest errors", () => {
  it("ambiguous_format: format csr with csc arrays names what was expected and what came", () => {
    const e = expectInputError(() => parseMatrixRequest({ ...CSR, data: CSC.data }), "ambiguous_format");
    expect(e.message).toBe('format "csr" expects row_pointers + col_indices; got col_pointers, row_indices');
    expect(e.details).toEqual({
      format: "csr",
      expected: ["row_pointers", "col_indices"],
      got: ["col_pointers", "row_indices"],
    });
  });

  it("ambiguous_format: no format and arrays fitting two formats, or a typo'd key", () => {
    const e = expectInputError(
      () =>
        parseMatrixRequest({
          rows: 1,
          cols: 1,
          nnz: 1,
          data: { values: [1], row_indices: [0], col_indices: [0], col_pointers: [0, 1] },
        }),
      "ambiguous_format",
    );
    expect(e.message).toContain("col_indices, col_pointers, row_indices");
    const typo = expectInputError(
      () => parseMatrixRequest({ ...CSR, data: { values: [1], row_ptr: [0, 1], col_indices: [0] } }),
      "ambiguous_format",
    );
    expect(typo.message).toContain("got col_indices, row_ptr");
  });

  it("unsupported_format: format dense", () => {
    const e = expectInputError(() => parseMatrixRequest({ ...CSR, format: "dense" }), "unsupported_format");
    expect(e.details).toMatchObject({ field: "format", found: "dense" });
  });

  it("not_square", () => {
    expectInputError(() => parseMatrixRequest({ ...COO, cols: 4, data: COO.data }), "not_square");
  });

  it("index_out_of_range: a column index equal to cols, with field and position", () => {
    const bad = { ...COO, data: { ...COO.data, col_indices: [2, 1, 2, 3, 1, 0, 1] } };
    const e = expectInputError(() => parseMatrixRequest(bad), "index_out_of_range");
    expect(e.details).toEqual({ field: "data.col_indices", position: 3, index: 3, min: 0, max: 2 });
    expect(e.message).toBe("data.col_indices[3] is 3; valid indices are 0..2");
  });

  it("count_mismatch: nnz vs values, row_pointers length, last pointer, decreasing pointers", () => {
    expect(
      expectInputError(() => parseMatrixRequest({ ...CSR, nnz: 6 }), "count_mismatch").details,
    ).toMatchObject({ field: "data.values", expected: 6, actual: 7 });
    expect(
      expectInputError(
        () => parseMatrixRequest({ ...CSR, data: { ...CSR.data, row_pointers: [0, 3, 7] } }),
        "count_mismatch",
      ).details,
    ).toMatchObject({ field: "data.row_pointers", expected: 4, actual: 3 });
    expect(
      expectInputError(
        () => parseMatrixRequest({ ...CSR, data: { ...CSR.data, row_pointers: [0, 3, 5, 6] } }),
        "count_mismatch",
      ).details,
    ).toMatchObject({ field: "data.row_pointers", position: 3, expected: 7, actual: 6 });
    expect(
      expectInputError(
        () => parseMatrixRequest({ ...CSR, data: { ...CSR.data, row_pointers: [0, 5, 3, 7] } }),
        "count_mismatch",
      ).message,
    ).toContain("never decrease");
    expectInputError(
      () => parseMatrixRequest({ ...COO, data: { ...COO.data, row_indices: [0, 1] } }),
      "count_mismatch",
    );
  });

  it("non_finite: NaN in values and Infinity in b", () => {
    const nan = { ...COO, data: { ...COO.data, values: [6, 1, NaN, 4, 5, 3, 1] } };
    expect(expectInputError(() => parseMatrixRequest(nan), "non_finite").details).toEqual({
      field: "data.values",
      position: 2,
      value: "NaN",
    });
    expectInputError(() => parseLinearSystemRequest({ ...COO, b: [1, Infinity, 3] }), "non_finite");
  });

  it("vector_length: b of the wrong length", () => {
    expect(
      expectInputError(() => parseLinearSystemRequest({ ...COO, b: [1, 2] }), "vector_length").details,
    ).toEqual({
      expected: 3,
      actual: 2,
    });
  });

  it("too_large: declared nnz beyond maxNnz before any array is walked", () => {
    expect(
      expectInputError(() => parseMatrixRequest({ ...COO, nnz: 7 }, { maxNnz: 6 }), "too_large").details,
    ).toEqual({ limit: "maxNnz", value: 7, max: 6 });
    expectInputError(() => parseMatrixRequest({ ...COO, rows: 3, cols: 3 }, { maxRows: 2 }), "too_large");
  });

  it("parse_error: wrong envelope types, a string value, a fractional index", () => {
    expect(expectInputError(() => parseMatrixRequest({ ...CSR, rows: "3" }), "parse_error").details).toEqual({
      field: "rows",
    });
    expectInputError(() => parseMatrixRequest(null), "parse_error");
    expectInputError(
      () => parseMatrixRequest({ ...CSR, data: { ...CSR.data, values: "1,2" } }),
      "parse_error",
    );
    expect(
      expectInputError(
        () => parseMatrixRequest({ ...COO, data: { ...COO.data, values: [6, 1, "-1", 4, 5, 3, 1] } }),
        "parse_error",
      ).message,
    ).toBe('data.values[2] is "-1"; expected a number');
    expect(
      expectInputError(
        () => parseMatrixRequest({ ...COO, data: { ...COO.data, row_indices: [2, 0.5, 1, 0, 1, 2, 0] } }),
        "parse_error",
      ).message,
    ).toContain("indices must be integers");
  });
});
