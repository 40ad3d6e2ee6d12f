/**
 * The matrix part of the HTTP API's JSON request (POST /api/v1/solve and friends):
 *
 *   { "rows": 3, "cols": 3, "nnz": 4, "format": "csr" | "csc" | "coo",
 *     "data": { "values": [...],
 *               "row_pointers": [...], "col_indices": [...]     (csr)
 *               "col_pointers": [...], "row_indices": [...]     (csc)
 *               "row_indices":  [...], "col_indices": [...] },  (coo)
 *     "b": [...] }                                              (optional right-hand side, length rows)
 *
 * Indices are 0-based. "format" may be omitted when the index arrays present name exactly one format.
 * The zod schema checks the shape cheaply (arrays are not walked element by element: zod would take ~20×
 * longer on millions of entries and report every bad element); sparse/linear-system-request.ts checks the
 * elements and builds the matrix.
 */
import { z } from "zod";

export type NumberArrayLike = readonly number[] | Float64Array | Float32Array | Int32Array | Uint32Array;

function isNumberArrayLike(v: unknown): v is NumberArrayLike {
  return (
    Array.isArray(v) ||
    v instanceof Float64Array ||
    v instanceof Float32Array ||
    v instanceof Int32Array ||
    v instanceof Uint32Array
  );
}

/** An array whose elements are checked later (see the file comment). */
const numberArray = z.custom<NumberArrayLike>(isNumberArrayLike, { message: "expected an array of numbers" });
const count = z.number().int().nonnegative();

export const MATRIX_FORMATS = ["csr", "csc", "coo"] as const;
export type MatrixFormat = (typeof MATRIX_FORMATS)[number];

/** Which index arrays each format needs, in the order messages name them. */
export const FORMAT_INDEX_FIELDS: Readonly<Record<MatrixFormat, readonly [string, string]>> = {
  csr: ["row_pointers", "col_indices"],
  csc: ["col_pointers", "row_indices"],
  coo: ["row_indices", "col_indices"],
};

export const matrixDataSchema = z
  .object({
    values: numberArray,
    row_pointers: numberArray.optional(),
    col_indices: numberArray.optional(),
    col_pointers: numberArray.optional(),
    row_indices: numberArray.optional(),
  })
  // Unknown keys are kept so a typo ("row_ptr") can be named in the ambiguous_format message.
  .catchall(z.unknown());

/** The request envelope; extend it (`.extend({...})`) for endpoint-specific options. */
export const matrixRequestSchema = z.object({
  rows: count,
  cols: count,
  nnz: count,
  // A plain string here so an unknown format gets unsupported_format rather than a generic enum error.
  format: z.string().optional(),
  data: matrixDataSchema,
  b: numberArray.optional(),
});

export type MatrixRequest = z.infer<typeof matrixRequestSchema>;
