import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { diagDominantArb, multiply, seededRandom } from "./helpers.ts";

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
});
