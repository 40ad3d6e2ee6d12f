import { describe, expect, it } from "vitest";
import { writeMatrixMarketVector } from "../../../src/core/sparse/matrix-market-write.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { matrixFrom, problemFrom } from "../../../src/core/sparse/problem.ts";
import { expectInputError } from "./helpers.ts";

const TINY = "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 4\n2 2 5\n";

describe("problemFrom", () => {
  it("parses or generates A, and makes b = A·1 unless a vector is given", () => {
    const generated = problemFrom({ kind: "generated", name: "poisson2d-3" }, { kind: "ones" });
    expect(generated.a.rows).toBe(9);
    expect(generated.b).toEqual(multiply(generated.a, ones(9)));
    expect(generated.rhsIsAOnes).toBe(true);

    const text = writeMatrixMarketVector(Float64Array.from([1, 2]));
    const uploaded = problemFrom({ kind: "matrix-market", text: TINY }, { kind: "matrix-market", text });
    expect(Array.from(uploaded.a.values)).toEqual([4, 5]);
    expect(Array.from(uploaded.b)).toEqual([1, 2]);
    expect(uploaded.rhsIsAOnes).toBe(false);
  });

  it("refuses an unknown example with its own code", () => {
    const e = expectInputError(
      () => matrixFrom({ kind: "generated", name: "poisson4d-3" }),
      "unknown_example",
    );
    expect(e.message).toBe('unknown example "poisson4d-3"');
  });
});
