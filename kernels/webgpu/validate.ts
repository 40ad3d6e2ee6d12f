import { z } from "zod";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { WebGpuSolverError } from "./errors.ts";

/**
 * Checks the CsrMatrix contract (csr.ts) and the vectors before anything reaches the GPU: a broken row
 * pointer or an out-of-range column would otherwise read out of bounds on the device (clamped, silently
 * wrong) instead of failing clearly. O(nnz).
 */
export function validateSystem(a: CsrMatrix, b: Float64Array, x0: Float64Array | undefined): void {
  const bad = (msg: string): never => {
    throw new WebGpuSolverError("invalid_input", msg);
  };
  if (!Number.isInteger(a.rows) || a.rows < 1) bad(`rows must be a positive integer, got ${a.rows}`);
  if (a.rows !== a.cols) bad(`the matrix must be square, got ${a.rows}×${a.cols}`);
  if (a.rowPtr.length !== a.rows + 1) bad(`rowPtr has ${a.rowPtr.length} entries, expected ${a.rows + 1}`);
  const nnz = a.rowPtr[a.rows]!;
  if (a.rowPtr[0] !== 0 || a.colIdx.length < nnz || a.values.length < nnz) {
    bad(`rowPtr[0] must be 0 and colIdx/values must hold rowPtr[rows] = ${nnz} entries`);
  }
  for (let i = 0; i < a.rows; i++) {
    if (a.rowPtr[i + 1]! < a.rowPtr[i]!) bad(`rowPtr decreases at row ${i}`);
  }
  for (let k = 0; k < nnz; k++) {
    const c = a.colIdx[k]!;
    if (c < 0 || c >= a.cols) bad(`column index ${c} at position ${k} is outside [0, ${a.cols})`);
    if (!Number.isFinite(a.values[k]!)) bad(`matrix value at position ${k} is not finite`);
  }
  if (b.length !== a.rows) bad(`b has ${b.length} entries; the matrix has ${a.rows} rows`);
  if (!b.every(Number.isFinite)) bad("b has a non-finite entry");
  if (x0 !== undefined) {
    if (x0.length !== a.rows) bad(`x0 has ${x0.length} entries; the matrix has ${a.rows} rows`);
    if (!x0.every(Number.isFinite)) bad("x0 has a non-finite entry");
  }
}

/** Numeric solve options (callbacks and the signal are checked by type only). */
export const numericOptionsSchema = z.object({
  tol: z.number().positive().lt(1),
  maxIter: z.number().int().positive(),
  timeLimitMs: z.number().positive().optional(),
  updateEvery: z.number().int().positive().optional(),
  /** Iterations per command buffer between residual readbacks; >= 10 keeps readbacks rare. */
  checkEvery: z.number().int().min(10).max(100_000).optional(),
  innerTol: z.number().positive().lt(1).optional(),
  maxOuter: z.number().int().positive().optional(),
});

export function parseNumericOptions(options: unknown): z.infer<typeof numericOptionsSchema> {
  const parsed = numericOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new WebGpuSolverError("invalid_input", `invalid solve options: ${issues}`);
  }
  return parsed.data;
}
