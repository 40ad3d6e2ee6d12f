import { describe, expect, it } from "vitest";
import {
  MAX_MAX_ITER,
  MAX_METHOD_LABEL_CHARS,
  MAX_METHOD_PATH,
  solutionSchema,
  toWireSolution,
} from "../../../src/core/protocol/jobs.ts";
import type { SolvedRhs } from "../../../src/core/protocol/rhs-solution.ts";

const REF = { sha256: "a".repeat(64), byteLength: 8 };

describe("toWireSolution", () => {
  it("carries the solution as it is, x replaced by its blob's reference", () => {
    const solved: SolvedRhs = {
      x: new Float64Array([1]),
      converged: true,
      iterations: 12,
      relResidual: 1e-9,
      methodPath: ["cg+jacobi"],
      backend: "wasm",
      ms: 3,
    };
    expect(toWireSolution(solved, REF)).toEqual({
      x: REF,
      converged: true,
      iterations: 12,
      relResidual: 1e-9,
      methodPath: ["cg+jacobi"],
    });
  });

  it("bounds what the schema bounds, so the signed body is never refused whole", () => {
    const wire = toWireSolution(
      {
        x: null,
        converged: false,
        iterations: MAX_MAX_ITER + 5,
        relResidual: Infinity,
        methodPath: Array.from({ length: MAX_METHOD_PATH + 2 }, () => "m".repeat(MAX_METHOD_LABEL_CHARS + 9)),
      },
      REF,
    );
    expect(wire.iterations).toBe(MAX_MAX_ITER);
    expect(wire.relResidual).toBeNull();
    expect(wire.methodPath).toHaveLength(MAX_METHOD_PATH);
    expect(wire.methodPath[0]).toHaveLength(MAX_METHOD_LABEL_CHARS);
    expect(solutionSchema.safeParse(wire).success).toBe(true);
  });
});
