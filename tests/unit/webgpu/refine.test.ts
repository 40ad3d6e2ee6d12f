import { describe, expect, it } from "vitest";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import type { IterationUpdate } from "../../../src/core/solver/types.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import type { InnerRunOptions, InnerSolveFn } from "../../../kernels/webgpu/inner/types.ts";
import { refine, type RefineOptions } from "../../../kernels/webgpu/refine.ts";

/**
 * The refinement loop is the f64 half of the WebGPU solver; its f32 inner solver normally runs on the GPU.
 * Here a CPU stand-in does the same arithmetic in f32 (Math.fround on every operation; A rounded to f32,
 * as uploaded), so the loop's logic is tested in Node. Fault-injecting fakes are named as such.
 */
function cpuF32CgInner(a: CsrMatrix): InnerSolveFn & { calls: InnerRunOptions[] } {
  const f = Math.fround;
  const vals = Float32Array.from(a.values);
  const n = a.rows;
  const dinv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) if (a.colIdx[k] === i) dinv[i] = f(1 / vals[k]!);
  }
  const spmv = (x: Float32Array, y: Float32Array): void => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) s = f(s + f(vals[k]! * x[a.colIdx[k]!]!));
      y[i] = s;
    }
  };
  const dot = (x: Float32Array, y: Float32Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s = f(s + f(x[i]! * y[i]!));
    return s;
  };
  const calls: InnerRunOptions[] = [];
  const fn = async (rhs: Float32Array, o: InnerRunOptions) => {
    calls.push(o);
    const x = new Float32Array(n);
    const r = Float32Array.from(rhs);
    const z = r.map((v, i) => f(v * dinv[i]!));
    const p = Float32Array.from(z);
    const q = new Float32Array(n);
    const rr0 = dot(r, r);
    let rz = dot(r, z);
    let it = 0;
    let rel = 1;
    while (it < o.maxIter) {
      spmv(p, q);
      const alpha = f(rz / dot(p, q));
      for (let i = 0; i < n; i++) {
        x[i] = f(x[i]! + f(alpha * p[i]!));
        r[i] = f(r[i]! - f(alpha * q[i]!));
        z[i] = f(r[i]! * dinv[i]!);
      }
      it++;
      rel = Math.sqrt(dot(r, r) / rr0);
      if (it % o.checkEvery === 0) o.onCheck?.(it, rel);
      if (rel <= o.tol)
        return { x, reason: "converged" as const, iterations: it, encoded: it, relResidual: rel };
      const rzNew = dot(r, z);
      const beta = f(rzNew / rz);
      rz = rzNew;
      for (let i = 0; i < n; i++) p[i] = f(z[i]! + f(beta * p[i]!));
    }
    return { x, reason: "max_iterations" as const, iterations: it, encoded: it, relResidual: rel };
  };
  return Object.assign(fn, { calls });
}

const fakeInnerReturningNaN: InnerSolveFn = async (rhs) => ({
  x: new Float32Array(rhs.length).fill(Number.NaN),
  reason: "breakdown",
  iterations: 3,
  encoded: 16,
  relResidual: Number.NaN,
});

/** Claims convergence but returns a correction that does nothing (what f32 at its limit looks like). */
const fakeInnerNoProgress: InnerSolveFn = async (rhs) => ({
  x: new Float32Array(rhs.length),
  reason: "converged",
  iterations: 10,
  encoded: 16,
  relResidual: 1e-5,
});

function base(a: CsrMatrix, overrides: Partial<RefineOptions> = {}): RefineOptions {
  return {
    tol: 1e-10,
    maxIter: 10_000,
    maxOuter: 40,
    innerTol: 1e-4,
    checkEvery: 16,
    methodLabel: "cg+jacobi",
    flopsPerIteration: 2 * (a.rowPtr[a.rows] ?? 0),
    workingSetBytes: 1,
    ...overrides,
  };
}

function onesRhs(a: CsrMatrix): Float64Array {
  const b = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) b[i] = b[i]! + a.values[k]!;
  return b;
}

describe("mixed-precision refinement", () => {
  it("reaches an f64 residual far below f32 precision with an f32 inner solver", async () => {
    const a = poisson2d(16);
    const b = onesRhs(a);
    const inner = cpuF32CgInner(a);
    const out = await refine(a, b, inner, base(a, { tol: 1e-12 }));
    expect(out.converged).toBe(true);
    expect(out.reason).toBe("converged");
    expect(out.relResidual).toBeLessThanOrEqual(1e-12);
    expect(out.relResidual).toBe(relativeResidual(a, out.x, b));
    expect(out.outerIterations).toBeGreaterThanOrEqual(2);
    expect(out.iterations).toBe(out.encodedIterations);
    for (let i = 0; i < a.rows; i++) expect(Math.abs(out.x[i]! - 1)).toBeLessThan(1e-9);
    // Later steps ask only for the reduction still needed, never less than innerTol or more than 0.5.
    for (const c of inner.calls) {
      expect(c.tol).toBeGreaterThanOrEqual(1e-4);
      expect(c.tol).toBeLessThanOrEqual(0.5);
    }
  });

  it("passes the remaining iteration budget down and stops at maxIter", async () => {
    const a = poisson2d(16);
    const inner = cpuF32CgInner(a);
    const out = await refine(a, onesRhs(a), inner, base(a, { maxIter: 20 }));
    expect(out.converged).toBe(false);
    expect(out.reason).toBe("max_iterations");
    expect(out.encodedIterations).toBeLessThanOrEqual(20);
    expect(inner.calls[0]!.maxIter).toBe(20);
    expect(out.relResidual).toBeLessThan(1); // it did make progress, and says how much
  });

  it("rejects a NaN correction, keeps the best x and reports diverged", async () => {
    const a = poisson2d(8);
    const b = onesRhs(a);
    const out = await refine(a, b, fakeInnerReturningNaN, base(a));
    expect(out.converged).toBe(false);
    expect(out.reason).toBe("diverged");
    expect(out.x.every((v) => v === 0)).toBe(true);
    expect(out.relResidual).toBe(1);
    expect(out.bestResidual).toBe(1);
  });

  it("stops with stagnated when the inner solver claims success but the f64 residual does not drop", async () => {
    const a = poisson2d(8);
    const out = await refine(a, onesRhs(a), fakeInnerNoProgress, base(a));
    expect(out.converged).toBe(false);
    expect(out.reason).toBe("stagnated");
    expect(out.outerIterations).toBe(1);
  });

  it("starts from x0 and returns at once when x0 already solves the system", async () => {
    const a = poisson2d(8);
    const b = onesRhs(a);
    const inner = cpuF32CgInner(a);
    const out = await refine(a, b, inner, base(a, { x0: new Float64Array(a.rows).fill(1) }));
    expect(out.converged).toBe(true);
    expect(out.outerIterations).toBe(0);
    expect(inner.calls.length).toBe(0);
  });

  it("solves b = 0 with x = 0 whatever x0 says", async () => {
    const a = poisson2d(8);
    const out = await refine(
      a,
      new Float64Array(a.rows),
      cpuF32CgInner(a),
      base(a, { x0: new Float64Array(a.rows).fill(5) }),
    );
    expect(out.converged).toBe(true);
    expect(out.x.every((v) => v === 0)).toBe(true);
  });

  it("honours an already-aborted signal and an elapsed time limit", async () => {
    const a = poisson2d(8);
    const controller = new AbortController();
    controller.abort();
    const cancelled = await refine(a, onesRhs(a), cpuF32CgInner(a), base(a, { signal: controller.signal }));
    expect(cancelled.reason).toBe("cancelled");
    expect(cancelled.converged).toBe(false);
    // An inner solve that takes 20 ms against a 5 ms limit: the loop stops after that step.
    const cpu = cpuF32CgInner(a);
    const slowInner: InnerSolveFn = async (rhs, o) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return cpu(rhs, { ...o, maxIter: Math.min(o.maxIter, 3) });
    };
    const timed = await refine(a, onesRhs(a), slowInner, base(a, { timeLimitMs: 5 }));
    expect(timed.reason).toBe("time_limit");
    expect(timed.outerIterations).toBe(1);
    expect(timed.converged).toBe(false);
  });

  it("streams updates at inner checks and after each refinement step, with x_partial when asked", async () => {
    const a = poisson2d(16);
    const b = onesRhs(a);
    const updates: IterationUpdate[] = [];
    const out = await refine(
      a,
      b,
      cpuF32CgInner(a),
      base(a, { includeXPartial: true, onUpdate: (u) => updates.push(u), checkEvery: 10 }),
    );
    expect(out.converged).toBe(true);
    expect(updates.length).toBeGreaterThan(out.outerIterations);
    const withX = updates.filter((u) => u.x_partial !== undefined);
    expect(withX.length).toBe(out.outerIterations);
    // The last update carries the final f64 residual and iterate.
    const last = updates.at(-1)!;
    expect(last.residual_norm).toBeCloseTo(out.relResidual, 15);
    expect(Array.from(last.x_partial!)).toEqual(Array.from(out.x));
    for (let i = 1; i < updates.length; i++)
      expect(updates[i]!.iteration).toBeGreaterThanOrEqual(updates[i - 1]!.iteration);
    expect(updates.every((u) => u.type === "iteration_update" && u.method === "cg+jacobi")).toBe(true);
  });
});
