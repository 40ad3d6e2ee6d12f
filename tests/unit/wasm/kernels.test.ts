import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { createWasmKernels } from "../../../kernels/wasm/index.ts";
import type { WasmKernels } from "../../../kernels/wasm/index.ts";
import { ensureWasmBuilt, maxScaledError, randomCsr, randomVector, refSpmv } from "./helpers.ts";

// Each kernel against a plain JS f64 loop, on 1 and 2 threads. Sizes: empty, tiny, odd, just past a
// 4096-row reduction block, and large enough (≥ 32768) that the 2-thread instance really splits the work.
const SIZES = [0, 1, 7, 33, 4097, 40009];
/** Reductions and row sums are summed in a different order than the reference: allow a few ulps of the
 *  summed magnitudes. Elementwise updates have no reordering and must match bit for bit. */
const SUM_TOL = 1e-14;

function load(k: WasmKernels, v: Float64Array): Float64Array {
  const w = k.vector(v.length);
  w.set(v);
  return w;
}

describe.each([1, 2])("wasm kernels, %i thread(s)", (threads) => {
  let k: WasmKernels;
  beforeAll(async () => {
    ensureWasmBuilt();
    k = await createWasmKernels({ threads });
  });
  afterAll(() => k.dispose());

  it("uses the threads asked for (Node has shared memory and may block)", () => {
    expect(k.backend).toBe("wasm");
    expect(k.threads).toBe(threads);
    expect(k.sharedMemory).toBe(true);
  });

  it.each([
    [0, 0],
    [1, 1],
    [7, 3],
    [37, 53],
    [4097, 4097],
    [40009, 39989],
  ])("spmv matches JS on a random %i×%i matrix with empty rows", (rows, cols) => {
    const a = randomCsr(rows, cols, rows * 31 + cols);
    const xs = randomVector(cols, 7);
    const ka = k.matrix(a);
    const x = load(k, xs);
    const y = k.vector(rows);
    y.fill(Number.NaN); // every row, empty ones included, must be written
    k.spmv(ka, x, y);
    const ref = refSpmv(a, xs);
    expect(maxScaledError(y, ref.y, ref.mag)).toBeLessThanOrEqual(SUM_TOL);
    for (let i = 0; i < rows; i++) if (a.rowPtr[i] === a.rowPtr[i + 1]) expect(y[i]).toBe(0);
    expect(Array.from(x)).toEqual(Array.from(xs)); // input untouched
  });

  it.each(SIZES)("spmvDot and residual match JS (n = %i)", (n) => {
    const a = randomCsr(n, n, 1000 + n);
    const ka = k.matrix(a);
    const ps = randomVector(n, 11);
    const bs = randomVector(n, 12);
    const p = load(k, ps);
    const q = k.vector(n);
    const pq = k.spmvDot(ka, p, q);
    const ref = refSpmv(a, ps);
    expect(maxScaledError(q, ref.y, ref.mag)).toBeLessThanOrEqual(SUM_TOL);
    let refDot = 0;
    let mag = 0;
    for (let i = 0; i < n; i++) {
      refDot += ps[i]! * q[i]!;
      mag += Math.abs(ps[i]! * ref.mag[i]!);
    }
    expect(Math.abs(pq - refDot)).toBeLessThanOrEqual(SUM_TOL * Math.max(mag, 1e-300));

    // The same rows through spmv give bitwise the same q (one row kernel for all three ops).
    const y = k.vector(n);
    k.spmv(ka, p, y);
    expect(Array.from(y)).toEqual(Array.from(q));

    const b = load(k, bs);
    const r = k.vector(n);
    const rr = k.residual(ka, p, b, r);
    let refRr = 0;
    for (let i = 0; i < n; i++) {
      const ri = bs[i]! - ref.y[i]!;
      expect(Math.abs(r[i]! - ri)).toBeLessThanOrEqual(SUM_TOL * (ref.mag[i]! + Math.abs(bs[i]!)) + 1e-300);
      refRr += ri * ri;
    }
    expect(Math.abs(rr - refRr)).toBeLessThanOrEqual(1e-12 * Math.max(refRr, 1e-300));
  });

  it.each(SIZES)("dot, axpy, xpby and triad match JS (n = %i)", (n) => {
    const xs = randomVector(n, 21);
    const ys = randomVector(n, 22);
    const x = load(k, xs);
    const y = load(k, ys);
    let refDot = 0;
    let mag = 0;
    for (let i = 0; i < n; i++) {
      refDot += xs[i]! * ys[i]!;
      mag += Math.abs(xs[i]! * ys[i]!);
    }
    expect(Math.abs(k.dot(x, y) - refDot)).toBeLessThanOrEqual(SUM_TOL * Math.max(mag, 1e-300));

    // No reordering in elementwise updates: bit-identical to the JS expression.
    k.axpy(0.75, x, y);
    expect(Array.from(y)).toEqual(Array.from(ys, (v, i) => v + 0.75 * xs[i]!));
    y.set(ys);
    k.xpby(x, -1.25, y);
    expect(Array.from(y)).toEqual(Array.from(ys, (v, i) => xs[i]! + -1.25 * v));
    const a = k.vector(n);
    k.triad(a, x, 3.5, y);
    expect(Array.from(a)).toEqual(Array.from(xs, (v, i) => v + 3.5 * y[i]!));
  });

  it.each(SIZES)("cgUpdate matches JS with and without a Jacobi scaling (n = %i)", (n) => {
    const [ps, qs, xs, rs, ds] = [31, 32, 33, 34, 35].map((s) => randomVector(n, s + n)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const alpha = 0.3125;
    const refX = Array.from(xs, (v, i) => v + alpha * ps[i]!);
    const refR = Array.from(rs, (v, i) => v - alpha * qs[i]!);
    const refZ = refR.map((v, i) => ds[i]! * v);
    let rz = 0;
    let rr = 0;
    let magRz = 0;
    for (let i = 0; i < n; i++) {
      rz += refR[i]! * refZ[i]!;
      rr += refR[i]! * refR[i]!;
      magRz += Math.abs(refR[i]! * refZ[i]!);
    }
    const [p, q, x, r, d] = [ps, qs, xs, rs, ds].map((v) => load(k, v)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const z = k.vector(n);
    const out = new Float64Array(2);
    k.cgUpdate(alpha, p, q, x, r, d, z, out);
    expect(Array.from(x)).toEqual(refX);
    expect(Array.from(r)).toEqual(refR);
    expect(Array.from(z)).toEqual(refZ);
    expect(Math.abs(out[0]! - rz)).toBeLessThanOrEqual(SUM_TOL * Math.max(magRz, 1e-300));
    expect(Math.abs(out[1]! - rr)).toBeLessThanOrEqual(SUM_TOL * Math.max(rr, 1e-300));

    // dinv = null: z = r and r·z = r·r; z may be a separate vector or r itself.
    x.set(xs);
    r.set(rs);
    z.fill(Number.NaN);
    k.cgUpdate(alpha, p, q, x, r, null, z, out);
    expect(Array.from(z)).toEqual(refR);
    expect(out[0]).toBe(out[1]);
    expect(Math.abs(out[1]! - rr)).toBeLessThanOrEqual(SUM_TOL * Math.max(rr, 1e-300));
    r.set(rs);
    k.cgUpdate(alpha, p, q, x, r, null, r, out);
    expect(Array.from(r)).toEqual(refR);
  });
});

describe("the 2-thread team really shares the work", () => {
  it("the helper runs chunks of large kernels", async () => {
    ensureWasmBuilt();
    const k = await createWasmKernels({ threads: 2 });
    try {
      const a = randomCsr(200_000, 200_000, 3);
      const ka = k.matrix(a);
      const x = load(k, randomVector(200_000, 4));
      const y = k.vector(200_000);
      const team = (k as unknown as { team: { helpedChunks: number } }).team;
      // Dynamic chunking gives the helper work only when the OS runs it: on a loaded machine keep
      // calling (up to 5 s) until it has taken part.
      const deadline = performance.now() + 5000;
      while (team.helpedChunks === 0 && performance.now() < deadline) {
        k.spmv(ka, x, y);
        k.dot(x, y);
      }
      expect(team.helpedChunks).toBeGreaterThan(0);
    } finally {
      k.dispose();
    }
  });
});

describe("wasm kernels are deterministic across thread counts", () => {
  let one: WasmKernels;
  let two: WasmKernels;
  beforeAll(async () => {
    ensureWasmBuilt();
    [one, two] = await Promise.all([createWasmKernels({ threads: 1 }), createWasmKernels({ threads: 2 })]);
  });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });

  it("1 and 2 threads give bit-identical reductions (per-block partials, summed in block order)", () => {
    const n = 100_003;
    const a: CsrMatrix = randomCsr(n, n, 5, 13, 0.05);
    const ps = randomVector(n, 1);
    const results = [one, two].map((k) => {
      const ka = k.matrix(a);
      const p = load(k, ps);
      const q = k.vector(n);
      const pq = k.spmvDot(ka, p, q);
      const r = k.vector(n);
      const rr = k.residual(ka, p, q, r);
      const out = new Float64Array(2);
      const z = k.vector(n);
      k.cgUpdate(0.5, p, q, load(k, ps), r, load(k, ps), z, out);
      return [pq, rr, k.dot(p, q), out[0]!, out[1]!];
    });
    expect(results[1]).toEqual(results[0]);
  });
});
