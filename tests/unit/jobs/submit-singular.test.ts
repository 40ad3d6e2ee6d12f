import { describe, expect, it } from "vitest";
import { prepareSubmission, type SubmitInput } from "../../../src/core/jobs/requester/submit.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";

/** 3×3, every entry stored as an explicit 0 (issue 11: the swarm said "done, residual 0"). */
const zero3: CsrMatrix = {
  rows: 3,
  cols: 3,
  rowPtr: Int32Array.from([0, 3, 6, 9]),
  colIdx: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2]),
  values: new Float64Array(9),
};

function input(a: CsrMatrix, rhs: Float64Array[]): SubmitInput {
  return { name: "t", kind: "multi-rhs", a, rhs, method: "cg", tol: 1e-8, maxIter: 100 };
}

const clock = () => 1_000;
const random = () => 0.5;

describe("prepareSubmission refuses what has no solution", () => {
  it("a zero matrix with b ≠ 0: singular_matrix, naming the problem", async () => {
    await expect(prepareSubmission(input(zero3, [Float64Array.of(1, 1, 1)]), clock, random)).rejects.toThrow(
      expect.objectContaining({ code: "singular_matrix", message: expect.stringMatching(/zero matrix/) }),
    );
  });

  it("a zero matrix with b = 0 is accepted (its unit answers x = 0 and says why)", async () => {
    const prepared = await prepareSubmission(input(zero3, [new Float64Array(3)]), clock, random);
    expect(prepared.plan.units.length).toBe(1);
  });

  it("a regular system is accepted", async () => {
    const a = poisson2d(4);
    const prepared = await prepareSubmission(input(a, [new Float64Array(a.rows).fill(1)]), clock, random);
    expect(prepared.plan.units.length).toBe(1);
  });
});
