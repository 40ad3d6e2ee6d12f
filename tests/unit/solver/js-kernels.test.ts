import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createJsKernels } from "../../../src/core/solver/js-kernels.ts";
import { csrToDense, diagDominantArb, multiply } from "./helpers.ts";

const k = createJsKernels();
const close = (got: number, want: number, scale: number) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * scale);

const caseArb = diagDominantArb.chain((a) =>
  fc.record({
    a: fc.constant(a),
    x: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: a.rows, maxLength: a.rows }),
    y: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: a.rows, maxLength: a.rows }),
    alpha: fc.double({ min: -5, max: 5, noNaN: true }),
  }),
);

describe("js kernels match naive dense arithmetic", () => {
  it("spmv, spmvDot and residual", () => {
    fc.assert(
      fc.property(caseArb, ({ a, x, y }) => {
        const n = a.rows;
        const xv = Float64Array.from(x);
        const bv = Float64Array.from(y);
        const dense = csrToDense(a);
        const want = new Float64Array(n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) want[i] = want[i]! + dense[i * n + j]! * xv[j]!;
        const ka = k.matrix(a);
        const got = k.vector(n);
        k.spmv(ka, xv, got);
        const scale = 1 + want.reduce((s, v) => s + Math.abs(v), 0);
        for (let i = 0; i < n; i++) close(got[i]!, want[i]!, scale);
        const q = k.vector(n);
        const pq = k.spmvDot(ka, xv, q);
        close(
          pq,
          want.reduce((s, v, i) => s + v * xv[i]!, 0),
          scale * 10 * n,
        );
        const r = k.vector(n);
        const rr = k.residual(ka, xv, bv, r);
        let wantRr = 0;
        for (let i = 0; i < n; i++) {
          close(r[i]!, bv[i]! - want[i]!, scale);
          wantRr += (bv[i]! - want[i]!) ** 2;
        }
        close(rr, wantRr, wantRr + scale);
      }),
      { numRuns: 40 },
    );
  });

  it("dot, axpy, xpby and the fused cgUpdate", () => {
    fc.assert(
      fc.property(caseArb, ({ a, x, y, alpha }) => {
        const n = a.rows;
        const xv = Float64Array.from(x);
        const yv = Float64Array.from(y);
        close(
          k.dot(xv, yv),
          x.reduce((s, v, i) => s + v * y[i]!, 0),
          100 * n,
        );
        const ax = yv.slice();
        k.axpy(alpha, xv, ax);
        for (let i = 0; i < n; i++) close(ax[i]!, y[i]! + alpha * x[i]!, 100);
        const xp = yv.slice();
        k.xpby(xv, alpha, xp);
        for (let i = 0; i < n; i++) close(xp[i]!, x[i]! + alpha * y[i]!, 100);

        const p = xv;
        const q = multiply(a, p);
        const dinv = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
        for (const d of [null, dinv]) {
          const xs = yv.slice();
          const r = Float64Array.from(y, (v) => v * 0.5);
          const r0 = r.slice();
          const z = new Float64Array(n);
          const out = new Float64Array(2);
          k.cgUpdate(alpha, p, q, xs, r, d, z, out);
          let rz = 0;
          let rr = 0;
          for (let i = 0; i < n; i++) {
            close(xs[i]!, y[i]! + alpha * p[i]!, 100);
            const ri = r0[i]! - alpha * q[i]!;
            close(r[i]!, ri, 1000);
            const zi = d === null ? ri : d[i]! * ri;
            close(z[i]!, zi, 1000);
            rz += ri * zi;
            rr += ri * ri;
          }
          close(out[0]!, rz, 1e4 * n);
          close(out[1]!, rr, 1e4 * n);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("refuses a matrix handle from another backend with a coded error", () => {
    const foreign = { rows: 1, cols: 1, nnz: 1 };
    expect(() => k.spmv(foreign, new Float64Array(1), new Float64Array(1))).toThrow(
      expect.objectContaining({ code: "backend_mismatch" }),
    );
  });
});
