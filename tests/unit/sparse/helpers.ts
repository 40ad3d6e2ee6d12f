import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import type { InputErrorCode } from "../../../src/core/sparse/errors.ts";
import { InputError } from "../../../src/core/sparse/errors.ts";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The shared SuiteSparse matrices live next to the repo, never inside it. */
export const matricesDir = resolve(repoRoot, "../shared/matrices");

/** Asserts the CsrMatrix invariants documented in csr.ts. */
export function expectCanonicalCsr(a: CsrMatrix): void {
  expect(a.rowPtr.length).toBe(a.rows + 1);
  expect(a.rowPtr[0]).toBe(0);
  const nnz = a.rowPtr[a.rows]!;
  expect(a.colIdx.length).toBe(nnz);
  expect(a.values.length).toBe(nnz);
  for (let i = 0; i < a.rows; i++) {
    const start = a.rowPtr[i]!;
    const end = a.rowPtr[i + 1]!;
    if (end < start) throw new Error(`rowPtr decreases at row ${i}`);
    for (let p = start; p < end; p++) {
      const c = a.colIdx[p]!;
      if (c < 0 || c >= a.cols) throw new Error(`column ${c} out of range in row ${i}`);
      if (p > start && c <= a.colIdx[p - 1]!) throw new Error(`columns not strictly increasing in row ${i}`);
      if (!Number.isFinite(a.values[p]!)) throw new Error(`non-finite value in row ${i}`);
    }
  }
}

/** Entry (i, j) of A (0-based), 0 if not stored. */
export function entry(a: CsrMatrix, i: number, j: number): number {
  for (let p = a.rowPtr[i]!; p < a.rowPtr[i + 1]!; p++) if (a.colIdx[p] === j) return a.values[p]!;
  return 0;
}

/** Runs `fn`, requires it to throw an InputError with `code`, and returns that error for more checks. */
export function expectInputError(fn: () => unknown, code: InputErrorCode): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.code, err.message).toBe(code);
    return err;
  }
  throw new Error(`expected an InputError with code ${code}, but nothing was thrown`);
}
