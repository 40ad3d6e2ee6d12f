/**
 * The JSON solve request (protocol/solve-request.ts) into a canonical CSR matrix and an optional b, for
 * the HTTP API. Unsorted indices are accepted and duplicate coordinates are SUMMED (as in the Matrix Market
 * reader), so all three formats describe the same matrix the same way. The schema checked the shape; the
 * element checks here give one specific InputError with the field and position.
 */
import type { z } from "zod";
import {
  FORMAT_INDEX_FIELDS,
  MATRIX_FORMATS,
  matrixRequestSchema,
  type MatrixFormat,
  type MatrixRequest,
  type NumberArrayLike,
} from "../protocol/solve-request.ts";
import type { CsrMatrix } from "./csr.ts";
import { fromCoo, fromCsc } from "./coo.ts";
import { checkDeclaredSize, InputError, type MatrixInputOptions } from "./errors.ts";

export interface LinearSystem {
  a: CsrMatrix;
  /** The right-hand side if the request carried one. */
  b: Float64Array | null;
}

function shapeError(error: z.ZodError): InputError<"parse_error"> {
  const issue = error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? "request" : issue.path.join(".");
  const message = issue?.message ?? "invalid request";
  return new InputError("parse_error", `${field}: ${message}`, { field });
}

function resolveFormat(format: string | undefined, data: Record<string, unknown>): MatrixFormat {
  const got = Object.keys(data)
    .filter((k) => k !== "values" && data[k] !== undefined)
    .sort();
  const fits = (f: MatrixFormat): boolean => {
    const want = FORMAT_INDEX_FIELDS[f];
    return got.length === 2 && want.every((k) => got.includes(k));
  };
  const describe = (f: MatrixFormat): string => FORMAT_INDEX_FIELDS[f].join(" + ");
  const gotText = got.length === 0 ? "no index arrays" : got.join(", ");
  if (format !== undefined) {
    if (!(MATRIX_FORMATS as readonly string[]).includes(format)) {
      throw new InputError(
        "unsupported_format",
        `format "${format}" is not supported (supported: ${MATRIX_FORMATS.join(", ")})`,
        { field: "format", found: format, supported: MATRIX_FORMATS },
      );
    }
    const f = format as MatrixFormat;
    if (!fits(f)) {
      throw new InputError("ambiguous_format", `format "${f}" expects ${describe(f)}; got ${gotText}`, {
        format: f,
        expected: FORMAT_INDEX_FIELDS[f],
        got,
      });
    }
    return f;
  }
  const candidates = MATRIX_FORMATS.filter(fits);
  if (candidates.length === 1) return candidates[0]!;
  throw new InputError(
    "ambiguous_format",
    `no "format" given and data has ${gotText}, which fits no format; expected ${MATRIX_FORMATS.map(
      (f) => `${f} (${describe(f)})`,
    ).join(", ")}`,
    { format: null, expected: MATRIX_FORMATS.map(describe), got },
  );
}

function checkLength(arr: NumberArrayLike, field: string, expected: number, what: string): void {
  if (arr.length !== expected) {
    throw new InputError(
      "count_mismatch",
      `${field} has ${arr.length} entries; expected ${expected} (${what})`,
      {
        field,
        what,
        expected,
        actual: arr.length,
      },
    );
  }
}

function notANumber(field: string, position: number, v: unknown): InputError<"parse_error"> {
  const found = typeof v === "string" ? JSON.stringify(v) : String(v);
  return new InputError("parse_error", `${field}[${position}] is ${found}; expected a number`, {
    field,
    position,
    found,
  });
}

/** Copies finite numbers into a Float64Array, with a specific error for the first bad element. */
function readValues(arr: NumberArrayLike, field: string): Float64Array {
  const out = new Float64Array(arr.length);
  for (let k = 0; k < arr.length; k++) {
    const v: unknown = arr[k];
    if (typeof v !== "number") throw notANumber(field, k, v);
    if (!Number.isFinite(v)) {
      throw new InputError("non_finite", `${field}[${k}] is ${v}; values must be finite`, {
        field,
        position: k,
        value: String(v),
      });
    }
    out[k] = v;
  }
  return out;
}

/** Copies integer indices in [0, limit) into an Int32Array. */
function readIndices(arr: NumberArrayLike, field: string, limit: number): Int32Array {
  const out = new Int32Array(arr.length);
  for (let k = 0; k < arr.length; k++) {
    const v: unknown = arr[k];
    if (typeof v !== "number" || !Number.isInteger(v)) {
      if (typeof v === "number" && !Number.isNaN(v) && Number.isFinite(v)) {
        throw new InputError("parse_error", `${field}[${k}] is ${v}; indices must be integers`, {
          field,
          position: k,
          found: String(v),
        });
      }
      throw notANumber(field, k, v);
    }
    if (v < 0 || v >= limit) {
      throw new InputError(
        "index_out_of_range",
        `${field}[${k}] is ${v}; valid indices are 0..${limit - 1}`,
        {
          field,
          position: k,
          index: v,
          min: 0,
          max: limit - 1,
        },
      );
    }
    out[k] = v;
  }
  return out;
}

/** Pointer array of a compressed format: length dim + 1, starts at 0, never decreases, ends at nnz. */
function readPointers(
  arr: NumberArrayLike,
  field: string,
  dim: number,
  dimName: "rows" | "cols",
  nnz: number,
): Int32Array {
  checkLength(arr, field, dim + 1, `${dimName} + 1`);
  const ptr = readIndices(arr, field, nnz + 1);
  if (ptr[0] !== 0) {
    throw new InputError("count_mismatch", `${field}[0] is ${ptr[0]}; it must be 0`, {
      field,
      position: 0,
      what: "first pointer",
      expected: 0,
      actual: ptr[0]!,
    });
  }
  for (let k = 1; k <= dim; k++) {
    if (ptr[k]! < ptr[k - 1]!) {
      throw new InputError(
        "count_mismatch",
        `${field}[${k}] = ${ptr[k]} is less than ${field}[${k - 1}] = ${ptr[k - 1]}; pointers never decrease`,
        { field, position: k, what: "pointer increment", expected: ptr[k - 1]!, actual: ptr[k]! },
      );
    }
  }
  if (ptr[dim] !== nnz) {
    throw new InputError("count_mismatch", `${field}[${dim}] is ${ptr[dim]}; it must equal nnz = ${nnz}`, {
      field,
      position: dim,
      what: "last pointer (nnz)",
      expected: nnz,
      actual: ptr[dim]!,
    });
  }
  return ptr;
}

/** True when every row's column indices strictly increase (already canonical: no sort, no summing). */
function isCanonicalCsr(rows: number, rowPtr: Int32Array, colIdx: Int32Array): boolean {
  for (let i = 0; i < rows; i++) {
    const end = rowPtr[i + 1]!;
    for (let p = rowPtr[i]! + 1; p < end; p++) if (colIdx[p]! <= colIdx[p - 1]!) return false;
  }
  return true;
}

function buildMatrix(req: MatrixRequest, format: MatrixFormat): CsrMatrix {
  const { rows, cols, nnz, data } = req;
  checkLength(data.values, "data.values", nnz, "nnz");
  const values = readValues(data.values, "data.values");
  // resolveFormat guaranteed the two index arrays of `format` are present.
  const [firstKey, secondKey] = FORMAT_INDEX_FIELDS[format];
  const first = data[firstKey] as NumberArrayLike;
  const second = data[secondKey] as NumberArrayLike;
  switch (format) {
    case "csr": {
      const rowPtr = readPointers(first, "data.row_pointers", rows, "rows", nnz);
      checkLength(second, "data.col_indices", nnz, "nnz");
      const colIdx = readIndices(second, "data.col_indices", cols);
      if (isCanonicalCsr(rows, rowPtr, colIdx)) return { rows, cols, rowPtr, colIdx, values };
      const rowIdx = new Int32Array(nnz);
      for (let i = 0; i < rows; i++) rowIdx.fill(i, rowPtr[i]!, rowPtr[i + 1]!);
      return fromCoo(rows, cols, rowIdx, colIdx, values);
    }
    case "csc": {
      const colPtr = readPointers(first, "data.col_pointers", cols, "cols", nnz);
      checkLength(second, "data.row_indices", nnz, "nnz");
      const rowIdx = readIndices(second, "data.row_indices", rows);
      return fromCsc(rows, cols, colPtr, rowIdx, values);
    }
    case "coo": {
      checkLength(first, "data.row_indices", nnz, "nnz");
      checkLength(second, "data.col_indices", nnz, "nnz");
      const rowIdx = readIndices(first, "data.row_indices", rows);
      const colIdx = readIndices(second, "data.col_indices", cols);
      return fromCoo(rows, cols, rowIdx, colIdx, values);
    }
  }
}

/** Validates a request (matrix and optional b) from untrusted JSON; throws a specific InputError. */
export function parseLinearSystemRequest(json: unknown, options?: MatrixInputOptions): LinearSystem {
  const parsed = matrixRequestSchema.safeParse(json);
  if (!parsed.success) throw shapeError(parsed.error);
  const req = parsed.data;
  const format = resolveFormat(req.format, req.data);
  checkDeclaredSize(req.rows, req.cols, req.nnz, options);
  const a = buildMatrix(req, format);
  if (req.b === undefined) return { a, b: null };
  if (req.b.length !== req.rows) {
    throw new InputError("vector_length", `b has ${req.b.length} entries; the matrix has ${req.rows} rows`, {
      expected: req.rows,
      actual: req.b.length,
    });
  }
  return { a, b: readValues(req.b, "b") };
}

/** Validates the matrix of a request from untrusted JSON into canonical CSR. */
export function parseMatrixRequest(json: unknown, options?: MatrixInputOptions): CsrMatrix {
  return parseLinearSystemRequest(json, options).a;
}
