import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { poisson2d, poisson3d } from "../../../src/core/sparse/generators.ts";
import { DIRECT_ORDERINGS } from "../../../src/core/solver/ordering/lu-ordering.ts";
import type { DirectOrdering } from "../../../src/core/solver/ordering/lu-ordering.ts";
import { factorDirect } from "../../../src/core/solver/methods/direct.ts";
import { SolverError } from "../../../src/core/solver/errors.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { luNnz, luSolve } from "../../../src/core/solver/methods/sparse-lu.ts";
import { loadMatrix, multiply, nonsymmetricArb, ones, rhsArb, SUITE } from "./helpers.ts";

const LIMITS = { maxN: 20_000, maxFill: 50_000_000 };

/** nnz(L + U) of the direct LU under an ordering, or "singular". */
function fillOf(a: CsrMatrix, ordering: DirectOrdering): number | "singular" {
  try {
    return luNnz(factorDirect(a, { ...LIMITS, ordering }).factors);
  } catch (e) {
    if (e instanceof SolverError && e.code === "singular_matrix") return "singular";
    throw e;
  }
}

function relResidualOf(a: CsrMatrix, x: Float64Array, b: Float64Array): number {
  const ax = multiply(a, x);
  return Math.hypot(...ax.map((v, i) => v - b[i]!)) / Math.hypot(...b);
}

/** dwt_878 is singular (numerical rank 850 of 878): no LU of it exists, whatever the ordering. */
const SINGULAR = new Set(["dwt_878"]);

describe("direct LU with the AMD pre-ordering", () => {
  it("fills no more than RCM on the shared matrices (all but at most one), much less on most", () => {
    const rows = SUITE.map((name) => {
      const a = loadMatrix(name);
      // The natural order only for the singular one (on bcsstk13 it alone costs seconds).
      const natural = SINGULAR.has(name) ? fillOf(a, "natural") : null;
      return { name, amd: fillOf(a, "amd"), rcm: fillOf(a, "rcm"), natural };
    });
    const solvable = rows.filter((r) => !SINGULAR.has(r.name));
    for (const r of solvable) {
      expect(typeof r.amd, `${r.name}: AMD LU failed`).toBe("number");
      expect(typeof r.rcm, `${r.name}: RCM LU failed`).toBe("number");
    }
    const ratio = (r: (typeof rows)[number]) => (r.amd as number) / (r.rcm as number);
    expect(solvable.filter((r) => ratio(r) <= 1).length).toBeGreaterThanOrEqual(solvable.length - 1);
    // The problems with real fill: AMD saves at least 15% on each (west0479: 2.5×, 494_bus: 1.5×).
    for (const name of ["494_bus", "bcsstk13", "west0479", "cage5"]) {
      const r = rows.find((x) => x.name === name)!;
      expect(ratio(r), `${name}: amd ${r.amd} vs rcm ${r.rcm}`).toBeLessThan(0.85);
    }
    for (const r of rows.filter((x) => SINGULAR.has(x.name))) {
      expect([r.amd, r.rcm, r.natural]).toEqual(["singular", "singular", "singular"]);
    }
  });

  it.each([
    ["poisson2d(70)", () => poisson2d(70), 0.4],
    ["poisson3d(15)", () => poisson3d(15), 0.55],
  ] as const)("%s: AMD's LU fill is far below RCM's and the natural order's", (_, make, maxRatio) => {
    const a = make();
    const amd = fillOf(a, "amd") as number;
    const rcm = fillOf(a, "rcm") as number;
    const natural = fillOf(a, "natural") as number;
    expect(amd).toBeLessThan(maxRatio * rcm);
    expect(amd).toBeLessThan(0.35 * natural);
    // SPD with a dominant diagonal: pivots stay on the diagonal, so the symbolic estimate is exact.
    expect(factorDirect(a, { ...LIMITS, ordering: "amd" }).estimatedFill).toBe(amd);
  });

  it.each(SUITE.filter((name) => !SINGULAR.has(name)))(
    "%s: method direct (AMD by default) reaches 1e-8 and says which ordering it used",
    (name) => {
      const a = loadMatrix(name);
      const b = multiply(a, ones(a.rows));
      const r = solve(a, b, { method: "direct", tol: 1e-8, maxIter: 10 });
      expect(r.converged, `${name}: ${r.reason} ${r.relResidual}`).toBe(true);
      expect(r.relResidual).toBeLessThanOrEqual(1e-8);
      expect(r.methodPath).toEqual(["direct"]);
      expect(r.stages?.[0]?.note).toMatch(/^LU \(AMD on (A\+Aᵀ|PA\+\(PA\)ᵀ)/);
    },
  );

  it("dwt_878 (singular): direct says singular under every ordering instead of faking an answer", () => {
    const a = loadMatrix("dwt_878");
    const r = solve(a, multiply(a, ones(a.rows)), { method: "direct", tol: 1e-8, maxIter: 10 });
    expect(r.converged).toBe(false);
    expect(r.reason).toBe("singular");
  });

  it("west0479: rows are matched to a zero-free diagonal before AMD; every ordering solves it", () => {
    const a = loadMatrix("west0479");
    const b = multiply(a, ones(a.rows));
    for (const ordering of DIRECT_ORDERINGS) {
      const f = factorDirect(a, { ...LIMITS, ordering });
      expect(f.ordering).toBe(ordering);
      const x = new Float64Array(a.rows);
      luSolve(f.factors, b, x, new Float64Array(a.rows));
      expect(relResidualOf(a, x, b), ordering).toBeLessThan(1e-10);
    }
    expect(factorDirect(a, LIMITS).orderingNote).toMatch(/zero-free diagonal/);
    expect(factorDirect(loadMatrix("bcsstk13"), LIMITS).orderingNote).toBe("AMD on A+Aᵀ");
  });

  it("P A Q = L U under AMD solves random nonsymmetric systems (many with zero diagonals)", () => {
    fc.assert(
      fc.property(
        nonsymmetricArb.chain((a) => fc.record({ a: fc.constant(a), b: rhsArb(a.rows) })),
        ({ a, b }) => {
          const f = factorDirect(a, LIMITS);
          const x = new Float64Array(a.rows);
          luSolve(f.factors, b, x, new Float64Array(a.rows));
          expect(relResidualOf(a, x, b)).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses up front, with fill_too_large, when the symbolic estimate passes maxFill", () => {
    const a = poisson2d(60);
    const need = factorDirect(a, LIMITS).estimatedFill;
    expect(() => factorDirect(a, { ...LIMITS, maxFill: need - 1 })).toThrowError(
      expect.objectContaining({ code: "fill_too_large", message: expect.stringMatching(/AMD/) }),
    );
    expect(luNnz(factorDirect(a, { ...LIMITS, maxFill: need }).factors)).toBe(need);
  });
});
