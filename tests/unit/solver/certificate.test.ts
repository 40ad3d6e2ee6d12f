import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createProjectionCheck,
  pickProbeRows,
  relativeResidual,
  rowProbe,
} from "../../../src/core/solver/certificate.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { diagDominantArb, loadMatrix, multiply, ones, seededRandom } from "./helpers.ts";

const TOL = 1e-8;

function naiveRel(a: Parameters<typeof multiply>[0], x: Float64Array, b: Float64Array): number {
  const ax = multiply(a, x);
  let r = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    r += (b[i]! - ax[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(r / n);
}

describe("certificates", () => {
  it("relativeResidual agrees with a naive computation", () => {
    fc.assert(
      fc.property(diagDominantArb, fc.integer({ min: 1, max: 1000 }), (a, seed) => {
        const rnd = seededRandom(seed);
        const x = Float64Array.from({ length: a.rows }, () => rnd() - 0.5);
        const b = Float64Array.from({ length: a.rows }, () => rnd() + 0.1);
        expect(relativeResidual(a, x, b)).toBeCloseTo(naiveRel(a, x, b), 12);
      }),
      { numRuns: 30 },
    );
  });

  const a = loadMatrix("494_bus");
  const b = multiply(a, ones(a.rows));
  const solved = solve(a, b, { method: "cg", preconditioner: "ic0", tol: TOL, maxIter: 2000 });

  it("rowProbe pins a wrong entry to the rows that use it", () => {
    const x = solved.x.slice();
    const j = 17;
    x[j] = x[j]! + 0.5;
    const probes = rowProbe(a, x, b, [...Array(a.rows).keys()]);
    for (const p of probes) {
      let touches = false;
      for (let k = a.rowPtr[p.row]!; k < a.rowPtr[p.row + 1]!; k++) if (a.colIdx[k] === j) touches = true;
      if (touches) expect(Math.abs(p.residual)).toBeGreaterThan(1e-3 * p.scale);
      else expect(Math.abs(p.residual)).toBeLessThan(1e-6 * p.scale);
    }
    expect(() => rowProbe(a, x, b, [a.rows])).toThrow(RangeError);
    const rows = pickProbeRows(a.rows, 20, seededRandom(3));
    expect(new Set(rows).size).toBe(20);
    expect(rows.every((r) => r >= 0 && r < a.rows)).toBe(true);
  });

  it("projection check accepts a real solution on every secret", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const check = createProjectionCheck(a, b, seededRandom(seed));
      const v = check.verify(solved.x, TOL);
      expect(v.passed, `seed ${seed}: ratio ${v.worstRatio}`).toBe(true);
      expect(v.values).toHaveLength(4);
    }
  });

  it("projection check rejects forged answers whose residual is 1000× the tolerance", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = seededRandom(1000 + seed);
      // A forgery: the true solution plus a random error scaled so ‖A x − b‖ = 1000·tol·‖b‖.
      const d = Float64Array.from({ length: a.rows }, () => rnd() - 0.5);
      const ad = multiply(a, d);
      const scale = (1000 * TOL * Math.hypot(...b)) / Math.hypot(...ad);
      const forged = solved.x.map((v, i) => v + scale * d[i]!);
      expect(relativeResidual(a, forged, b)).toBeGreaterThan(500 * TOL);
      const check = createProjectionCheck(a, b, seededRandom(seed));
      expect(check.verify(forged, TOL).passed, `seed ${seed}`).toBe(false);
    }
  });

  it("projection check rejects a stale iterate, and check() is affine in x", () => {
    const stale = solve(a, b, { method: "cg", tol: TOL, maxIter: 20 });
    expect(stale.converged).toBe(false);
    const check = createProjectionCheck(a, b, seededRandom(99), 1);
    expect(check.verify(stale.x, TOL).passed).toBe(false);
    const x0 = solved.x;
    const x1 = stale.x;
    const mid = x0.map((v, i) => 0.25 * v + 0.75 * x1[i]!);
    const [c0] = check.check(x0);
    const [c1] = check.check(x1);
    const [cm] = check.check(mid);
    expect(cm!).toBeCloseTo(0.25 * c0! + 0.75 * c1!, 6);
    expect(check.scale(TOL)).toBeCloseTo(TOL * Math.hypot(...b), 12);
  });
});
