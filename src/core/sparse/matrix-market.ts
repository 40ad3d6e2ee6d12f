/**
 * Matrix Market reader (https://math.nist.gov/MatrixMarket/formats.html) for the solver's inputs.
 *
 * Matrices: `coordinate` with field real/double/integer/pattern and symmetry general/symmetric/skew-symmetric.
 *  - symmetric: the stored triangle is mirrored; skew-symmetric: mirrored negated, and the diagonal must be 0.
 *    A file may store either triangle, but not a mix (that would double entries silently).
 *  - pattern: every stored entry is 1.
 *  - duplicate coordinates are SUMMED (assembly convention; see fromCoo). Explicit zeros stay stored.
 * Vectors: `array` real/integer general (one value per line, column-major), or `coordinate` n×1 / 1×n
 * (missing entries are 0, duplicates summed).
 * Not supported (unsupported_format): complex, hermitian, dense `array` matrices.
 */
import type { CsrMatrix } from "./csr.ts";
import { fromCoo, type Symmetry } from "./coo.ts";
import { checkDeclaredSize, InputError, resolveLimits, type MatrixInputOptions } from "./errors.ts";
import { TextCursor } from "./text-cursor.ts";

export { writeMatrixMarketMatrix, writeMatrixMarketVector } from "./matrix-market-write.ts";

type Field = "real" | "integer" | "pattern";

interface Banner {
  object: string;
  format: "coordinate" | "array";
  field: Field;
  symmetry: Symmetry;
}

const BANNER_EXAMPLE = "%%MatrixMarket matrix coordinate real general";
const SUPPORTED_FIELDS = ["real", "double", "integer", "pattern"] as const;
const SUPPORTED_SYMMETRIES = ["general", "symmetric", "skew-symmetric"] as const;

function unsupported(
  what: string,
  found: string,
  supported: readonly string[],
): InputError<"unsupported_format"> {
  return new InputError(
    "unsupported_format",
    `line 1: ${what} "${found}" is not supported (supported: ${supported.join(", ")})`,
    { line: 1, found, supported },
  );
}

function readBanner(cur: TextCursor): Banner {
  const line = cur.readRestOfLine();
  const tokens = line.trim().split(/\s+/);
  if (tokens[0]?.toLowerCase() !== "%%matrixmarket") {
    throw new InputError(
      "malformed_header",
      `line 1: expected a Matrix Market banner like "${BANNER_EXAMPLE}", found "${line.slice(0, 80)}"`,
      { line: 1, found: line.slice(0, 200) },
    );
  }
  if (tokens.length !== 5) {
    throw new InputError(
      "malformed_header",
      `line 1: the banner needs 4 words after %%MatrixMarket (object format field symmetry), found "${line.slice(0, 80)}"`,
      { line: 1, found: line.slice(0, 200) },
    );
  }
  const [, object, format, field, symmetry] = tokens.map((t) => t.toLowerCase()) as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (object !== "matrix") throw unsupported("object", object, ["matrix"]);
  if (format !== "coordinate" && format !== "array")
    throw unsupported("format", format, ["coordinate", "array"]);
  if (!(SUPPORTED_FIELDS as readonly string[]).includes(field))
    throw unsupported("field", field, SUPPORTED_FIELDS);
  if (!(SUPPORTED_SYMMETRIES as readonly string[]).includes(symmetry)) {
    throw unsupported("symmetry", symmetry, SUPPORTED_SYMMETRIES);
  }
  return {
    object,
    format,
    field: field === "double" ? "real" : (field as Field),
    symmetry: symmetry as Symmetry,
  };
}

/** Reads the size line: exactly `count` non-negative integers (rows cols [nnz]). */
function readSizeLine(cur: TextCursor, count: 2 | 3): number[] {
  if (!cur.nextContentLine()) {
    throw new InputError("malformed_header", "the size line (rows cols nnz) is missing", {
      line: cur.lineNo,
      found: "",
    });
  }
  const lineNo = cur.lineNo;
  const line = cur.readRestOfLine();
  const tokens = line.trim().split(/\s+/);
  const expected = count === 3 ? "rows cols nnz" : "rows cols";
  if (tokens.length !== count || !tokens.every((t) => /^\d+$/.test(t))) {
    throw new InputError(
      "malformed_header",
      `line ${lineNo}: the size line must be "${expected}" (${count} non-negative integers), found "${line.slice(0, 80)}"`,
      { line: lineNo, found: line.slice(0, 200) },
    );
  }
  return tokens.map(Number);
}

function indexOutOfRange(
  line: number,
  what: string,
  index: number,
  max: number,
): InputError<"index_out_of_range"> {
  return new InputError("index_out_of_range", `line ${line}: ${what} ${index} is outside 1..${max}`, {
    line,
    index,
    min: 1,
    max,
  });
}

function fewerEntries(cur: TextCursor, expected: number, actual: number): InputError<"count_mismatch"> {
  return new InputError(
    "count_mismatch",
    `the header declares ${expected} entries but the file ends after ${actual} (line ${cur.lineNo})`,
    { line: cur.lineNo, what: "entries", expected, actual },
  );
}

/** Counts leftover content lines after the declared entries, for a precise count_mismatch. */
function rejectTrailingEntries(cur: TextCursor, expected: number): void {
  if (!cur.nextContentLine()) return;
  const firstLine = cur.lineNo;
  let extra = 0;
  while (cur.nextContentLine()) {
    cur.readRestOfLine();
    extra++;
  }
  throw new InputError(
    "count_mismatch",
    `the header declares ${expected} entries but there are ${expected + extra} (first extra entry on line ${firstLine})`,
    { line: firstLine, what: "entries", expected, actual: expected + extra },
  );
}

function requireInteger(line: number, v: number): void {
  if (!Number.isInteger(v)) {
    throw new InputError("parse_error", `line ${line}: the field is "integer" but the value is ${v}`, {
      line,
      found: String(v),
    });
  }
}

/** Parses a Matrix Market coordinate matrix into canonical CSR (see the file comment for the rules). */
export function parseMatrixMarket(text: string, options?: MatrixInputOptions): CsrMatrix {
  const cur = new TextCursor(text);
  const banner = readBanner(cur);
  if (banner.format !== "coordinate") {
    throw unsupported("format", "array (dense matrix)", ["coordinate"]);
  }
  const [rows, cols, nnz] = readSizeLine(cur, 3) as [number, number, number];
  const mirrored = banner.symmetry !== "general";
  if (mirrored && rows !== cols) {
    throw new InputError(
      "not_square",
      `a ${banner.symmetry} matrix must be square; the header says ${rows}×${cols}`,
      {
        rows,
        cols,
      },
    );
  }
  checkDeclaredSize(rows, cols, nnz, options);

  const rowIdx = new Int32Array(nnz);
  const colIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const pattern = banner.field === "pattern";
  const integer = banner.field === "integer";
  const skew = banner.symmetry === "skew-symmetric";
  // +1 lower, -1 upper: the triangle a symmetric file stores, fixed by its first off-diagonal entry.
  let triangle = 0;
  let triangleLine = 0;
  let stored = 0;
  let offDiagonal = 0;
  for (let k = 0; k < nnz; k++) {
    if (!cur.nextContentLine()) throw fewerEntries(cur, nnz, k);
    const line = cur.lineNo;
    const i = cur.readInt("row index");
    const j = cur.readInt("column index");
    const v = pattern ? 1 : cur.readNumber("value");
    cur.endLine(pattern ? "row and column index" : "row index, column index and value");
    if (i < 1 || i > rows) throw indexOutOfRange(line, "row index", i, rows);
    if (j < 1 || j > cols) throw indexOutOfRange(line, "column index", j, cols);
    if (integer) requireInteger(line, v);
    if (mirrored && i !== j) {
      const side = i > j ? 1 : -1;
      if (triangle === 0) {
        triangle = side;
        triangleLine = line;
      } else if (side !== triangle) {
        throw new InputError(
          "parse_error",
          `line ${line}: a ${banner.symmetry} file must store one triangle only, but (${i}, ${j}) is in the ` +
            `${side > 0 ? "lower" : "upper"} triangle and line ${triangleLine} in the other`,
          { line, found: `${i} ${j}` },
        );
      }
      offDiagonal++;
    }
    if (skew && i === j) {
      if (v !== 0) {
        throw new InputError(
          "parse_error",
          `line ${line}: a skew-symmetric matrix has a zero diagonal, but (${i}, ${j}) = ${v}`,
          { line, found: String(v) },
        );
      }
      continue; // an explicit zero on a skew diagonal carries no information
    }
    rowIdx[stored] = i - 1;
    colIdx[stored] = j - 1;
    values[stored] = v;
    stored++;
  }
  rejectTrailingEntries(cur, nnz);

  const expandedNnz = stored + (mirrored ? offDiagonal : 0);
  const { maxNnz } = resolveLimits(options);
  if (expandedNnz > maxNnz) {
    throw new InputError(
      "too_large",
      `the ${banner.symmetry} matrix expands to ${expandedNnz} nonzeros; the limit is ${maxNnz} (maxNnz)`,
      { limit: "maxNnz", value: expandedNnz, max: maxNnz },
    );
  }
  return fromCoo(rows, cols, rowIdx, colIdx, values, { symmetry: banner.symmetry, count: stored });
}

/**
 * Parses a Matrix Market vector: `array` format with one column (or one row), or a `coordinate` n×1 / 1×n
 * matrix (missing entries are zero, duplicates summed). Pattern and symmetric files are rejected.
 */
export function parseMatrixMarketVector(
  text: string,
  options?: Pick<MatrixInputOptions, "maxRows">,
): Float64Array {
  const cur = new TextCursor(text);
  const banner = readBanner(cur);
  if (banner.field === "pattern") throw unsupported("field", "pattern (for a vector)", ["real", "integer"]);
  if (banner.symmetry !== "general") {
    throw unsupported("symmetry", `${banner.symmetry} (for a vector)`, ["general"]);
  }
  const coordinate = banner.format === "coordinate";
  const size = readSizeLine(cur, coordinate ? 3 : 2);
  const rows = size[0]!;
  const cols = size[1]!;
  if (rows !== 1 && cols !== 1) {
    throw new InputError(
      "vector_length",
      `a vector must have one column (or one row); the header says ${rows}×${cols}`,
      { expected: 1, actual: Math.min(rows, cols) },
    );
  }
  const n = rows * cols;
  const maxRows = options?.maxRows ?? resolveLimits(undefined).maxRows;
  if (n > maxRows) {
    throw new InputError("too_large", `the vector has ${n} entries; the limit is ${maxRows} (maxRows)`, {
      limit: "maxRows",
      value: n,
      max: maxRows,
    });
  }
  const x = new Float64Array(n);
  const integer = banner.field === "integer";
  if (!coordinate) {
    for (let k = 0; k < n; k++) {
      if (!cur.nextContentLine()) throw fewerEntries(cur, n, k);
      const line = cur.lineNo;
      const v = cur.readNumber("value");
      cur.endLine("the value");
      if (integer) requireInteger(line, v);
      x[k] = v;
    }
    rejectTrailingEntries(cur, n);
    return x;
  }
  const entries = size[2]!;
  for (let k = 0; k < entries; k++) {
    if (!cur.nextContentLine()) throw fewerEntries(cur, entries, k);
    const line = cur.lineNo;
    const i = cur.readInt("row index");
    const j = cur.readInt("column index");
    const v = cur.readNumber("value");
    cur.endLine("row index, column index and value");
    if (i < 1 || i > rows) throw indexOutOfRange(line, "row index", i, rows);
    if (j < 1 || j > cols) throw indexOutOfRange(line, "column index", j, cols);
    if (integer) requireInteger(line, v);
    const p = cols === 1 ? i - 1 : j - 1;
    const sum = x[p]! + v;
    if (!Number.isFinite(sum)) {
      throw new InputError("non_finite", `line ${line}: duplicate entries for index ${p + 1} sum to ${sum}`, {
        line,
        value: String(sum),
      });
    }
    x[p] = sum;
  }
  rejectTrailingEntries(cur, entries);
  return x;
}
