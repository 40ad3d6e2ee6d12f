import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createWasmKernels, type WasmKernels } from "../../../kernels/wasm/index.ts";
import { createJsKernels } from "../../../src/core/solver/js-kernels.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import type { Kernels } from "../../../src/core/solver/kernels.ts";
import type { MethodName, PreconditionerName } from "../../../src/core/solver/types.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { loadMatrix } from "./helpers.ts";

// Every method on every CPU backend against the js f64 reference: same certified residual class, same x.
// The wasm kernels are the real AssemblyScript module (npm run build:wasm), single- and two-threaded.

interface Case {
  method: MethodName;
  preconditioner?: PreconditionerName;
}

const SPD_METHODS: Case[] = [
  { method: "cg", preconditioner: "jacobi" },
  { method: "cg", preconditioner: "ic0" },
  { method: "bicgstab", preconditioner: "jacobi" },
  { method: "gmres", preconditioner: "ilu0" },
  { method: "hybrid" },
];
const NONSYMMETRIC_METHODS: Case[] = [
  { method: "bicgstab", preconditioner: "ilu0" },
  { method: "gmres", preconditioner: "ilu0" },
  { method: "direct" },
  { method: "hybrid" },
];
const SUITE_CASES: Record<string, { cases: Case[]; maxIter: number }> = {
  LFAT5: { cases: SPD_METHODS, maxIter: 2000 },
  "494_bus": { cases: [SPD_METHODS[0]!, SPD_METHODS[1]!, SPD_METHODS[4]!], maxIter: 5000 },
  bcsstk13: { cases: [SPD_METHODS[0]!, SPD_METHODS[4]!], maxIter: 10000 },
  cage5: { cases: NONSYMMETRIC_METHODS, maxIter: 2000 },
  bfwa62: { cases: NONSYMMETRIC_METHODS, maxIter: 2000 },
  west0479: { cases: [{ method: "direct" }, { method: "hybrid" }], maxIter: 5000 },
};

let backends: { label: string; kernels: Kernels }[] = [];
beforeAll(async () => {
  const wasm1: WasmKernels = await createWasmKernels({ threads: 1 });
  const wasm2: WasmKernels = await createWasmKernels({ threads: 2 });
  backends = [
    { label: "wasm×1", kernels: wasm1 },
    { label: "wasm×2", kernels: wasm2 },
  ];
});
afterAll(() => {
  for (const b of backends) b.kernels.dispose();
});

function solveBoth(a: CsrMatrix, b: Float64Array, c: Case, maxIter: number, kernels: Kernels) {
  const options = {
    method: c.method,
    tol: 1e-8,
    maxIter,
    ...(c.preconditioner ? { preconditioner: c.preconditioner } : {}),
  };
  const reference = solve(a, b, options, createJsKernels());
  const other = solve(a, b, options, kernels);
  return { reference, other };
}

function relDiff(x: Float64Array, y: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i]! - y[i]!) ** 2;
    den += y[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

describe("every method × wasm backend matches the js reference on the SuiteSparse matrices", () => {
  for (const [name, { cases, maxIter }] of Object.entries(SUITE_CASES)) {
    for (const c of cases) {
      it(`${name}: ${c.method}${c.preconditioner ? "+" + c.preconditioner : ""}`, () => {
        const a = loadMatrix(name);
        const b = multiply(a, ones(a.cols));
        for (const backend of backends) {
          const { reference, other } = solveBoth(a, b, c, maxIter, backend.kernels);
          expect(other.backend, backend.label).toBe("wasm");
          expect(other.converged, `${backend.label} converged`).toBe(reference.converged);
          if (reference.converged) {
            expect(other.relResidual, backend.label).toBeLessThanOrEqual(1e-8);
            expect(relativeResidual(a, other.x, b)).toBeCloseTo(other.relResidual, 12);
            // Same x as the reference, up to the conditioning of the problem at this residual.
            expect(relDiff(other.x, reference.x), backend.label).toBeLessThan(1e-3);
            // Same algorithm, different summation order: iteration counts stay close.
            expect(Math.abs(other.iterations - reference.iterations)).toBeLessThanOrEqual(
              Math.max(3, 0.1 * reference.iterations),
            );
          }
        }
      });
    }
  }
});

describe("random systems: wasm agrees with js (property test)", () => {
  it("diagonally dominant nonsymmetric systems solve identically with bicgstab on both backends", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 1e6 }), (n, seed) => {
        const a = randomDiagonallyDominant(n, seed);
        const b = multiply(a, ones(n));
        for (const backend of backends) {
          const { reference, other } = solveBoth(
            a,
            b,
            { method: "bicgstab", preconditioner: "jacobi" },
            500,
            backend.kernels,
          );
          expect(other.converged).toBe(reference.converged);
          if (other.converged) expect(relDiff(other.x, reference.x)).toBeLessThan(1e-6);
        }
      }),
      { numRuns: 25 },
    );
  });
});

function randomDiagonallyDominant(n: number, seed: number): CsrMatrix {
  let state = seed >>> 0 || 1;
  const random = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const rowPtr = new Int32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    let offSum = 0;
    const row: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j !== i && random() < 0.3) {
        const v = random() * 2 - 1;
        offSum += Math.abs(v);
        row.push([j, v]);
      }
    }
    row.push([i, offSum + 1 + random()]);
    row.sort((p, q) => p[0] - q[0]);
    for (const [j, v] of row) {
      cols.push(j);
      vals.push(v);
    }
    rowPtr[i + 1] = cols.length;
  }
  return { rows: n, cols: n, rowPtr, colIdx: Int32Array.from(cols), values: Float64Array.from(vals) };
}
