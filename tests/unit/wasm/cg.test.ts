import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jacobiPcg } from "../../../bench/solver/pcg.ts";
import { relativeResidual } from "../../../src/core/solver/certificate.ts";
import { createJsKernels } from "../../../src/core/solver/js-kernels.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { poisson2d, poisson3d } from "../../../src/core/sparse/generators.ts";
import { createWasmKernels } from "../../../kernels/wasm/index.ts";
import type { WasmKernels } from "../../../kernels/wasm/index.ts";
import { ensureWasmBuilt, sameBits } from "./helpers.ts";

// CG over the wasm kernels must land on the js backend's solution. Poisson 2D on a 200×200 grid
// (n = 40000: big enough that the 2-thread instance splits every kernel) and 3D on 20³.

function relDiff(a: Float64Array, b: Float64Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    s += b[i]! ** 2;
  }
  return Math.sqrt(d / s);
}

function rhsOnes(a: CsrMatrix): Float64Array {
  const b = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) b[i]! += a.values[k]!;
  return b;
}

const problems: [string, () => CsrMatrix][] = [
  ["poisson2d-200", () => poisson2d(200)],
  ["poisson3d-20", () => poisson3d(20)],
];

describe.each(problems)("CG over wasm kernels on %s", (_name, make) => {
  const a = make();
  const b = rhsOnes(a);
  const tol = 1e-12;
  let wasm: WasmKernels[] = [];
  beforeAll(async () => {
    ensureWasmBuilt();
    wasm = await Promise.all([createWasmKernels({ threads: 1 }), createWasmKernels({ threads: 2 })]);
  });
  afterAll(() => wasm.forEach((k) => k.dispose()));

  it("the product's solve() (cg + jacobi) converges to the js solution within 1e-10 relative", () => {
    const opts = { method: "cg", preconditioner: "jacobi", tol, maxIter: 5000 } as const;
    const js = solve(a, b, opts);
    expect(js.converged).toBe(true);
    for (const k of wasm) {
      const w = solve(a, b, opts, k);
      expect(w.converged).toBe(true);
      expect(w.backend).toBe("wasm");
      expect(w.threads).toBe(k.threads);
      expect(w.relResidual).toBeLessThanOrEqual(tol);
      expect(relDiff(w.x, js.x)).toBeLessThanOrEqual(1e-10);
    }
  });

  it("the benchmark's fused Jacobi-PCG agrees with js, and 1 vs 2 threads agree bit for bit", () => {
    const jk = createJsKernels();
    const js = jacobiPcg(jk, a, jk.matrix(a), b, tol, 5000);
    expect(js.converged).toBe(true);
    const runs = wasm.map((k) => jacobiPcg(k, a, k.matrix(a), b, tol, 5000));
    for (const w of runs) {
      expect(w.converged).toBe(true);
      expect(relativeResidual(a, w.x, b)).toBeLessThanOrEqual(10 * tol);
      expect(relDiff(w.x, js.x)).toBeLessThanOrEqual(1e-10);
    }
    expect(runs[1]!.iterations).toBe(runs[0]!.iterations);
    expect(sameBits(runs[1]!.x, runs[0]!.x)).toBe(true);
  });
});
