import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../../bench/solver/problems.ts";
import { isSymmetric } from "../../../src/core/sparse/structure.ts";
import { computeRatios, WEBGPU_DISPATCHES, WEBGPU_READBACKS } from "../../../bench/solver/report.ts";
import { runWebGpu, type WebGpuBenchConfig } from "../../../bench/solver/webgpu.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { nnzOf } from "../../../src/core/sparse/csr.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { parseMatrixMarket } from "../../../src/core/sparse/matrix-market.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";

// The WebGPU rows of bench/solver.ts, run for real in headless Chromium (SwiftShader on the build machines).

const matrices = fileURLToPath(new URL("../../../../shared/matrices/", import.meta.url));
const hasChromium = existsSync("/usr/bin/chromium");

function problem(name: string, a: CsrMatrix): Problem {
  return { name, a, b: multiply(a, ones(a.cols)), n: a.rows, nnz: nnzOf(a), symmetric: isSymmetric(a) };
}

const base: Omit<WebGpuBenchConfig, "maxN"> = {
  tol: 1e-8,
  maxIter: 2000,
  timeLimitMs: 60_000,
  log: () => undefined,
};

describe("bench/solver webgpu rows", () => {
  it.skipIf(!hasChromium)(
    "certifies x in f64, counts dispatches and readbacks, and lists what it skipped",
    async () => {
      const small = problem("poisson2d-40", poisson2d(40));
      const big = problem("poisson2d-60", poisson2d(60));
      const west = problem(
        "west0479",
        parseMatrixMarket(readFileSync(join(matrices, "west0479.mtx"), "utf8")),
      );
      const out = await runWebGpu([small, west, big], { ...base, maxN: 2000 });

      expect(
        out.notMeasured.filter((m) => m.name !== "poisson2d-60/webgpu/1" && m.name !== "webgpu speed"),
      ).toEqual([]);
      expect(out.rows.map((r) => r.problem)).toEqual(["poisson2d-40", "west0479"]);
      const skipped = out.notMeasured.find((m) => m.name === "poisson2d-60/webgpu/1");
      expect(skipped?.reason).toMatch(/n = 3600 > 2000 \(--webgpu-max-n\)/);

      const [p, w] = out.rows as [(typeof out.rows)[0], (typeof out.rows)[0]];
      expect(p).toMatchObject({ backend: "webgpu", threads: 1, cg_converged: true, row_blocks: 1 });
      expect(p.rel_residual).toBeLessThanOrEqual(1e-8);
      expect(p.outer_iterations).toBeGreaterThanOrEqual(2); // f32 alone does not reach 1e-8
      expect(p.dispatches_per_iteration).toBe(3);
      expect(p.readbacks_per_iteration).toBeLessThanOrEqual(0.1);
      expect(p.encoded_iterations).toBeGreaterThanOrEqual(p.cg_iterations);
      // CG on a nonsymmetric matrix that is not diagonally dominant: reported as not converged, honestly.
      expect(w.cg_converged).toBe(false);
      expect(w.rel_residual).toBeGreaterThan(1e-8);

      if (!p.timing_meaningful) {
        expect(p.adapter).toMatch(/swiftshader/i);
        expect(p.cg_ms).toBeNull();
        expect(p.ms_per_iteration).toBeNull();
        expect(out.notMeasured.map((m) => m.name)).toContain("webgpu speed");
      } else {
        expect(p.cg_ms).toBeGreaterThan(0);
      }

      const ratios = computeRatios(out.rows);
      expect(ratios["poisson2d-40"]?.[WEBGPU_DISPATCHES]).toBe(3);
      expect(ratios["poisson2d-40"]?.[WEBGPU_READBACKS]).toBe(p.readbacks_per_iteration);
    },
    120_000,
  );

  it("records a browser that cannot start in not_measured instead of failing", async () => {
    const out = await runWebGpu([problem("poisson2d-8", poisson2d(8))], {
      ...base,
      maxN: 1000,
      executablePath: "/nonexistent/chromium",
    });
    expect(out.rows).toEqual([]);
    expect(out.notMeasured).toHaveLength(1);
    expect(out.notMeasured[0]).toMatchObject({ name: "webgpu" });
    expect(out.notMeasured[0]!.reason).toMatch(/cannot launch Chromium \(\/nonexistent\/chromium\)/);
  });
});
