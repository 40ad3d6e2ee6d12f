import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { createWasmKernels } from "../../../kernels/wasm/index.ts";
import type { WasmKernels } from "../../../kernels/wasm/index.ts";
import { ensureWasmBuilt, rng } from "./helpers.ts";

// The SpMV kernel's summation order is part of its contract: a row's sum depends on the row alone (so 1
// and N threads agree bit for bit), and short rows take unrolled code paths that must add in the same
// order as the general loop (assembly/spmv.ts). This pins that order, bit for bit, for every row length
// around the unrolled ones, with terms of very different magnitudes (so another order gives other bits)
// and with −0 products (the general loop's accumulators start at +0, so a row of −0 products sums to +0).

/** The order of assembly/spmv.ts rowDot: f64x2 accumulators a0 (pairs 0–1, 4–5, …, then the odd pair)
 *  and a1 (pairs 2–3, 6–7, …), started at +0; then a0 + a1, lane 0 + lane 1, then the last odd entry. */
function rowDotOrder(a: CsrMatrix, x: Float64Array, i: number): number {
  const p = (k: number): number => a.values[k]! * x[a.colIdx[k]!]!;
  const k1 = a.rowPtr[i + 1]!;
  let [a00, a01, a10, a11] = [0, 0, 0, 0];
  let k = a.rowPtr[i]!;
  for (; k + 4 <= k1; k += 4) {
    a00 += p(k);
    a01 += p(k + 1);
    a10 += p(k + 2);
    a11 += p(k + 3);
  }
  if (k + 2 <= k1) {
    a00 += p(k);
    a01 += p(k + 1);
    k += 2;
  }
  let s = a00 + a10 + (a01 + a11);
  if (k < k1) s += p(k);
  return s;
}

/** Rows of every length in [0, maxLen], `copies` times each, columns random, values spanning 2^±30;
 *  every third copy has only −0 products (value −1 against x = 0 columns). */
function orderMatrix(maxLen: number, copies: number, seed: number): { a: CsrMatrix; x: Float64Array } {
  const rnd = rng(seed);
  const cols = 64;
  const x = Float64Array.from({ length: cols }, (_, j) =>
    j < 8 ? 0 : (rnd() * 2 - 1) * 2 ** (60 * rnd() - 30),
  );
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let c = 0; c < copies; c++) {
    for (let len = 0; len <= maxLen; len++) {
      const negZero = c % 3 === 2;
      for (let t = 0; t < len; t++) {
        colIdx.push(negZero ? t % 8 : 8 + Math.floor(rnd() * (cols - 8)));
        values.push(negZero ? -1 : (rnd() * 2 - 1) * 2 ** (60 * rnd() - 30));
      }
      rowPtr.push(colIdx.length);
    }
  }
  const a: CsrMatrix = {
    rows: rowPtr.length - 1,
    cols,
    rowPtr: Int32Array.from(rowPtr),
    colIdx: Int32Array.from(colIdx),
    values: Float64Array.from(values),
  };
  return { a, x };
}

describe.each([1, 2])("wasm SpMV summation order, %i thread(s)", (threads) => {
  let k: WasmKernels;
  beforeAll(async () => {
    ensureWasmBuilt();
    k = await createWasmKernels({ threads });
  });
  afterAll(() => k.dispose());

  it("every row of 0–20 nonzeros sums in rowDot's order, bit for bit (−0 rows give +0)", () => {
    const { a, x } = orderMatrix(20, 30, 7);
    const xs = k.vector(a.cols);
    xs.set(x);
    const y = k.vector(a.rows);
    k.spmv(k.matrix(a), xs, y);
    let sequentialDiffers = 0;
    for (let i = 0; i < a.rows; i++) {
      const want = rowDotOrder(a, x, i);
      if (!Object.is(y[i], want)) {
        const show = (v: number | undefined): string => (Object.is(v, -0) ? "-0" : String(v));
        expect.fail(
          `row ${i} (${a.rowPtr[i + 1]! - a.rowPtr[i]!} nonzeros): ${show(y[i])}, want ${show(want)}`,
        );
      }
      let seq = 0;
      for (let kk = a.rowPtr[i]!; kk < a.rowPtr[i + 1]!; kk++) seq += a.values[kk]! * x[a.colIdx[kk]!]!;
      if (!Object.is(seq, want)) sequentialDiffers++;
    }
    // The test can fail: a plain left-to-right sum gives other bits on many of these rows.
    expect(sequentialDiffers).toBeGreaterThan(a.rows / 10);
  });
});
