/**
 * A solve-stream body into a linear system the solver accepts, or one ApiError that says what is wrong
 * and where. When the matrix is refused, the other shape mismatches a caller could not see from the first
 * error alone (pointer lengths against rows/cols, the vector against rows) are named in the same message:
 * the seed's own example (rows 1000 with 3×3 arrays, csr with row_indices + col_pointers) is wrong in
 * several ways at once, and one round trip should tell all of them.
 */
import type { z } from "zod";
import { isInputError, type InputLimits } from "../src/core/sparse/errors.ts";
import { parseLinearSystemRequest } from "../src/core/sparse/linear-system-request.ts";
import type { CsrMatrix } from "../src/core/sparse/csr.ts";
import { singularityOf } from "../src/core/solver/singularity.ts";
import { ApiError } from "./errors.ts";
import { solveRequestSchema, type ApiSolveOptions, type SolveRequestBody } from "./schemas.ts";

export interface ParsedSolve {
  readonly a: CsrMatrix;
  readonly b: Float64Array;
  readonly method: SolveRequestBody["method"];
  readonly options: ApiSolveOptions;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

export function zodError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const path = issue === undefined ? "" : pathOf(issue.path);
  const message = issue?.message ?? "invalid request";
  return new ApiError(
    400,
    "invalid_request",
    path === "" ? message : `${path}: ${message}`,
    path || undefined,
  );
}

function lengthOf(v: unknown): number | null {
  return Array.isArray(v) ? v.length : null;
}

/** Length mismatches between the declared sizes and the arrays, as sentences (empty when consistent). */
function shapeHints(body: SolveRequestBody): string[] {
  const { rows, cols, data } = body.matrix;
  const hints: string[] = [];
  const pointers = [
    ["row_pointers", rows, "rows"],
    ["col_pointers", cols, "cols"],
  ] as const;
  for (const [field, dim, name] of pointers) {
    const length = lengthOf(data[field]);
    if (length !== null && length !== dim + 1) {
      hints.push(
        `matrix.data.${field} has ${length} entries but ${name} = ${dim} needs ${dim + 1} (${name} + 1)`,
      );
    }
  }
  if (body.vector.length !== rows) {
    hints.push(`vector has ${body.vector.length} entries but rows = ${rows}`);
  }
  const nnz = body.matrix.nnz;
  if (nnz !== undefined && data.values.length !== nnz) {
    hints.push(`matrix.data.values has ${data.values.length} entries but nnz = ${nnz}`);
  }
  return hints;
}

const STATUS_OF_INPUT_CODE: Readonly<Record<string, number>> = { too_large: 413 };

export function parseSolveRequest(json: unknown, limits: InputLimits): ParsedSolve {
  const parsed = solveRequestSchema.safeParse(json);
  if (!parsed.success) throw zodError(parsed.error);
  const body = parsed.data;
  const { matrix } = body;
  let system;
  try {
    system = parseLinearSystemRequest(
      { ...matrix, nnz: matrix.nnz ?? matrix.data.values.length, b: body.vector },
      limits,
    );
  } catch (error) {
    if (!isInputError(error)) throw error;
    const field = "field" in error.details ? error.details.field : undefined;
    const path = field === undefined ? "matrix" : field === "b" ? "vector" : `matrix.${field}`;
    const message = error.message.replace(/\bdata\./g, "matrix.data.").replace(/^b\b/, "vector");
    const also = shapeHints(body).filter((hint) => !message.includes(hint));
    throw new ApiError(
      STATUS_OF_INPUT_CODE[error.code] ?? 400,
      error.code,
      also.length === 0 ? message : `${message}; also: ${also.join("; ")}`,
      path,
    );
  }
  // Refused here, before the stream starts, so the caller gets a 400 rather than a failed stream.
  if (system.a.rows !== system.a.cols) {
    const size = `${matrix.rows}×${matrix.cols}`;
    throw new ApiError(400, "not_square", `the matrix is ${size}; solvers need a square A`, "matrix");
  }
  const singular = singularityOf(system.a);
  if (singular !== null) throw new ApiError(400, "singular_matrix", singular, "matrix");
  return {
    a: system.a,
    b: system.b ?? new Float64Array(system.a.rows),
    method: body.method,
    options: body.options,
  };
}
