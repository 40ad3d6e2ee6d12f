import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { seededRandom as rng } from "../../../src/node/seeded-random.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Builds the .wasm if stale (idempotent, ~0.1 s when up to date) so these tests also run on their own. */
export function ensureWasmBuilt(): void {
  execFileSync(process.execPath, ["scripts/build-wasm.mjs"], { cwd: root, stdio: "pipe" });
}

export { seededRandom as rng } from "../../../src/node/seeded-random.ts";

/**
 * A random rows×cols CSR with sorted distinct columns; about `emptyFraction` of rows are empty and row
 * lengths vary from 0 to maxPerRow (odd lengths exercise the unrolled loops' tails).
 */
export function randomCsr(
  rows: number,
  cols: number,
  seed: number,
  maxPerRow = 9,
  emptyFraction = 0.1,
): CsrMatrix {
  const rnd = rng(seed);
  const rowPtr = new Int32Array(rows + 1);
  const colList: number[] = [];
  const valList: number[] = [];
  for (let i = 0; i < rows; i++) {
    if (rnd() >= emptyFraction && cols > 0) {
      const len = 1 + Math.floor(rnd() * Math.min(maxPerRow, cols));
      const set = new Set<number>();
      while (set.size < len) set.add(Math.floor(rnd() * cols));
      for (const c of [...set].sort((a, b) => a - b)) {
        colList.push(c);
        valList.push(rnd() * 2 - 1);
      }
    }
    rowPtr[i + 1] = colList.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(colList), values: Float64Array.from(valList) };
}

export function randomVector(n: number, seed: number): Float64Array {
  const rnd = rng(seed);
  return Float64Array.from({ length: n }, () => rnd() * 2 - 1);
}

/** Plain JS f64 reference: y = A x, plus Σ|terms| per row for a rounding bound. */
export function refSpmv(a: CsrMatrix, x: ArrayLike<number>): { y: Float64Array; mag: Float64Array } {
  const y = new Float64Array(a.rows);
  const mag = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    let m = 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) {
      const t = a.values[k]! * x[a.colIdx[k]!]!;
      s += t;
      m += Math.abs(t);
    }
    y[i] = s;
    mag[i] = m;
  }
  return { y, mag };
}

/** |a − b| ≤ tol·scale elementwise (scale: per-entry magnitude of the summed terms, at least 1e-300). */
export function maxScaledError(a: ArrayLike<number>, b: ArrayLike<number>, scale: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(scale[i]!, 1e-300));
  }
  return worst;
}

export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
