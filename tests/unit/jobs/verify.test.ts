import { describe, expect, it } from "vitest";
import {
  checkCanary,
  compareReplicas,
  makeCanary,
  spotCheckPartial,
  verifySolveResult,
} from "../../../src/core/jobs/verify.ts";
import { createProjectionCheck, relativeResidual } from "../../../src/core/solver/certificate.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { IterationUpdate } from "../../../src/core/solver/types.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { loadMatrix, seededRandom } from "./helpers.ts";

const TOL = 1e-8;

function multiply(a: CsrMatrix, v: Float64Array): Float64Array {
  const y = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) y[i] = y[i]! + a.values[k]! * v[a.colIdx[k]!]!;
  }
  return y;
}

describe("verifySolveResult on 494_bus", () => {
  const a = loadMatrix("494_bus");
  const b = multiply(a, new Float64Array(a.rows).fill(1));
  const solved = solve(a, b, { method: "cg", preconditioner: "ic0", tol: TOL, maxIter: 2000 });

  it("accepts a real solution with the requester's own residual", () => {
    const v = verifySolveResult(a, b, solved.x, TOL);
    expect(v).toEqual({ ok: true, relResidual: relativeResidual(a, solved.x, b), code: null, reason: null });
    expect(v.relResidual).toBeLessThanOrEqual(TOL);
  });

  it("rejects perturbed, non-finite and mis-sized answers with a code", () => {
    const perturbed = solved.x.map((v, i) => (i === 100 ? v * 1.001 : v));
    const p = verifySolveResult(a, b, perturbed, TOL);
    expect(p.ok).toBe(false);
    expect(p.code).toBe("above_tolerance");
    expect(p.relResidual).toBeGreaterThan(TOL);
    expect(p.reason).toMatch(/above the tolerance/);

    const nan = solved.x.slice();
    nan[3] = NaN;
    expect(verifySolveResult(a, b, nan, TOL)).toMatchObject({ ok: false, code: "non_finite" });
    expect(verifySolveResult(a, b, solved.x.subarray(1), TOL)).toMatchObject({
      ok: false,
      code: "dimension_mismatch",
    });
    // A made-up x of zeros: residual 1.
    expect(verifySolveResult(a, b, new Float64Array(a.rows), TOL)).toMatchObject({
      ok: false,
      relResidual: 1,
    });
  });

  it("catches a non-finite entry that no row reads", () => {
    // Column 1 is empty: the residual cannot see x[1].
    const m: CsrMatrix = {
      rows: 2,
      cols: 2,
      rowPtr: Int32Array.from([0, 1, 2]),
      colIdx: Int32Array.from([0, 0]),
      values: Float64Array.from([1, 1]),
    };
    const x = Float64Array.from([1, Infinity]);
    expect(verifySolveResult(m, Float64Array.from([1, 1]), x, TOL)).toMatchObject({
      ok: false,
      code: "non_finite",
    });
  });
});

describe("spotCheckPartial on streamed iterates of 494_bus", () => {
  const a = loadMatrix("494_bus");
  const rnd = seededRandom(5);
  const b = multiply(
    a,
    Float64Array.from({ length: a.rows }, () => rnd() - 0.5),
  );
  const updates: IterationUpdate[] = [];
  solve(a, b, {
    method: "cg",
    preconditioner: "jacobi",
    tol: TOL,
    maxIter: 3000,
    updateEvery: 50,
    includeXPartial: true,
    onUpdate: (u) => updates.push(u),
  });
  const projection = createProjectionCheck(a, b, seededRandom(11));

  it("passes honest iterates with the residual the solver reported", () => {
    expect(updates.length).toBeGreaterThan(3);
    for (const u of updates) {
      const c = spotCheckPartial(a, b, u.x_partial!, u.residual_norm, {
        projection,
        random: seededRandom(u.iteration),
      });
      expect(c.ok, `iteration ${u.iteration}: ${c.reason}`).toBe(true);
      expect(c.worstRowRatio).toBeLessThanOrEqual(10);
    }
  });

  it("fails an iterate whose claimed residual is 1000× too small, and a made-up iterate", () => {
    const u = updates[Math.floor(updates.length / 2)]!;
    const trueRel = relativeResidual(a, u.x_partial!, b);
    const understated = spotCheckPartial(a, b, u.x_partial!, trueRel / 1000, {
      projection,
      random: seededRandom(1),
    });
    expect(understated.ok).toBe(false);
    expect(["row_probe_failed", "projection_failed"]).toContain(understated.code);

    const fake = Float64Array.from({ length: a.rows }, () => rnd());
    const made = spotCheckPartial(a, b, fake, 1e-6, { projection, random: seededRandom(2) });
    expect(made.ok).toBe(false);

    expect(spotCheckPartial(a, b, fake.subarray(2), 1e-6, { projection, random: rnd }).code).toBe(
      "dimension_mismatch",
    );
    expect(spotCheckPartial(a, b, u.x_partial!, NaN, { projection, random: rnd }).code).toBe("non_finite");
  });

  it("the projection alone catches an understated residual even when no probed row is off", () => {
    const u = updates[Math.floor(updates.length / 2)]!;
    const trueRel = relativeResidual(a, u.x_partial!, b);
    // No row probes at all: only the secret projection stands between the claim and acceptance.
    const c = spotCheckPartial(a, b, u.x_partial!, trueRel / 1000, {
      projection,
      random: seededRandom(1),
      probeRows: 0,
    });
    expect(c).toMatchObject({ ok: false, code: "projection_failed" });
    expect(c.projectionRatio).toBeGreaterThan(10);
  });
});

describe("replicas and canaries (uncertifiable results)", () => {
  const tol = { absolute: 1e-6, relative: 1e-3 };

  it("compareReplicas accepts agreement within the tolerance and names the first disagreement", () => {
    const x = Float32Array.from([1, 2, 3, 1000]);
    expect(compareReplicas(x, Float32Array.from([1, 2, 3, 1000.5]), tol)).toMatchObject({
      ok: true,
      worstIndex: 3,
    });
    const off = compareReplicas(x, Float32Array.from([1, 2.1, 3, 1000]), tol);
    expect(off.ok).toBe(false);
    expect(off.worstIndex).toBe(1);
    expect(off.reason).toMatch(/^entry 1 differs/);
    expect(compareReplicas(x, x.subarray(1), tol)).toMatchObject({
      ok: false,
      reason: "lengths differ: 4 vs 3",
    });
    expect(compareReplicas([1, NaN], [1, NaN], tol).ok).toBe(false);
    expect(compareReplicas([], [], tol).ok).toBe(true);
  });

  it("a canary checks a volunteer's output against the known answer", () => {
    const canary = makeCanary({ tokens: [1, 2, 3] }, [0.25, 0.5, 0.25], tol);
    expect(checkCanary(canary, [0.25, 0.5, 0.25]).ok).toBe(true);
    expect(checkCanary(canary, [0.2500001, 0.5, 0.25]).ok).toBe(true);
    expect(checkCanary(canary, [0.3, 0.4, 0.3]).ok).toBe(false);
    expect(canary.input).toEqual({ tokens: [1, 2, 3] });
  });
});
