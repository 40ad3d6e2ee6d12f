import type { CsrMatrix } from "./csr.ts";
import { InputError } from "./errors.ts";

/**
 * Finite-difference Laplacians with Dirichlet boundaries on a k×k (k×k×k) grid, unscaled (diagonal 2d,
 * neighbours −1): symmetric positive definite, the standard benchmark for CG. Written straight into CSR
 * with columns already sorted, so "poisson2d-1000" (n = 10⁶, ≈ 5·10⁶ nonzeros) takes a fraction of a second.
 */

function checkGrid(k: number, dims: number): void {
  // Int32 indices: the matrix's nnz must stay below 2³¹.
  const maxK = Math.floor(Math.pow(2 ** 31 / (2 * dims + 1), 1 / dims));
  if (!Number.isInteger(k) || k < 1) {
    throw new InputError("parse_error", `poisson${dims}d grid size must be a positive integer, got ${k}`, {
      found: String(k),
    });
  }
  if (k > maxK) {
    throw new InputError("too_large", `poisson${dims}d grid size ${k} exceeds ${maxK} (int32 indices)`, {
      limit: "maxRows",
      value: k,
      max: maxK,
    });
  }
}

/** 5-point Laplacian on a k×k grid: n = k², nnz = 5n − 4k. Row r = y·k + x. */
export function poisson2d(k: number): CsrMatrix {
  checkGrid(k, 2);
  const n = k * k;
  const nnz = 5 * n - 4 * k;
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let p = 0;
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      const r = y * k + x;
      rowPtr[r] = p;
      if (y > 0) {
        colIdx[p] = r - k;
        values[p++] = -1;
      }
      if (x > 0) {
        colIdx[p] = r - 1;
        values[p++] = -1;
      }
      colIdx[p] = r;
      values[p++] = 4;
      if (x < k - 1) {
        colIdx[p] = r + 1;
        values[p++] = -1;
      }
      if (y < k - 1) {
        colIdx[p] = r + k;
        values[p++] = -1;
      }
    }
  }
  rowPtr[n] = p;
  return { rows: n, cols: n, rowPtr, colIdx, values };
}

/** 7-point Laplacian on a k×k×k grid: n = k³, nnz = 7n − 6k². Row r = (z·k + y)·k + x. */
export function poisson3d(k: number): CsrMatrix {
  checkGrid(k, 3);
  const plane = k * k;
  const n = plane * k;
  const nnz = 7 * n - 6 * plane;
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let p = 0;
  for (let z = 0; z < k; z++) {
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        const r = (z * k + y) * k + x;
        rowPtr[r] = p;
        if (z > 0) {
          colIdx[p] = r - plane;
          values[p++] = -1;
        }
        if (y > 0) {
          colIdx[p] = r - k;
          values[p++] = -1;
        }
        if (x > 0) {
          colIdx[p] = r - 1;
          values[p++] = -1;
        }
        colIdx[p] = r;
        values[p++] = 6;
        if (x < k - 1) {
          colIdx[p] = r + 1;
          values[p++] = -1;
        }
        if (y < k - 1) {
          colIdx[p] = r + k;
          values[p++] = -1;
        }
        if (z < k - 1) {
          colIdx[p] = r + plane;
          values[p++] = -1;
        }
      }
    }
  }
  rowPtr[n] = p;
  return { rows: n, cols: n, rowPtr, colIdx, values };
}

const EXAMPLE_NAME = /^poisson([23])d-(\d+)$/;

/** Whether `name` is a generator name such as "poisson2d-1000" or "poisson3d-100". */
export function isExampleName(name: string): boolean {
  return EXAMPLE_NAME.test(name);
}

/** Parses a generator name such as "poisson2d-1000" or "poisson3d-100"; null if it is not one. */
export function generateByName(name: string): CsrMatrix | null {
  const m = EXAMPLE_NAME.exec(name);
  if (m === null) return null;
  const k = Number(m[2]);
  return m[1] === "2" ? poisson2d(k) : poisson3d(k);
}
