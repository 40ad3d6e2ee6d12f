import { nnzOf } from "../../sparse/csr.ts";
import type { CsrMatrix } from "../../sparse/csr.ts";
import { greedyColoring } from "../ordering/coloring.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { diagonal } from "../../sparse/structure.ts";
import { SolverError } from "../errors.ts";

/** Update row i in place: x_i ← (1−ω) x_i + ω (b_i − Σ_{j≠i} a_ij x_j) / a_ii. */
function relaxRow(a: CsrMatrix, i: number, b: Float64Array, x: Float64Array, d: Float64Array, omega: number) {
  const { rowPtr, colIdx, values } = a;
  let s = b[i]!;
  for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) {
    const j = colIdx[k]!;
    if (j !== i) s -= values[k]! * x[j]!;
  }
  x[i] = (1 - omega) * x[i]! + (omega * s) / d[i]!;
}

/**
 * Gauss–Seidel (SOR when ω ≠ 1). "sequential": natural row order, inherently serial. "multicolor": rows
 * are swept color by color (greedyColoring); rows of one color do not touch each other, so each color
 * step is parallel (what a GPU runs), at the price of a different (colored) ordering. The sweep itself
 * runs in JS on the backend's vectors; the residual that decides convergence goes through the kernels.
 */
export function runGaussSeidel(
  ctx: MethodContext,
  omega: number,
  variant: "sequential" | "multicolor",
): MethodOutcome {
  const { kernels: k, ka, b, x, monitor, n, a } = ctx;
  const d = diagonal(a);
  for (let i = 0; i < n; i++) {
    if (d[i] === 0)
      throw new SolverError("zero_diagonal", `gauss_seidel needs a nonzero diagonal; row ${i} has none`);
  }
  const coloring = variant === "multicolor" ? greedyColoring(a) : null;
  const r = ctx.vec(0);
  const base = variant === "multicolor" ? `gauss_seidel(multicolor:${coloring!.numColors})` : "gauss_seidel";
  const label = omega === 1 ? base : `${base}(omega=${omega})`;
  monitor.beginStage({ label, flopsPerIter: 4 * nnzOf(a) + 4 * n, memoryBytes: ctx.memoryBytes(3) });
  let rel = ctx.trueRel(r);
  monitor.record(rel, x);
  if (rel <= ctx.tol) return { reason: "converged", label };
  for (;;) {
    if (coloring === null) {
      for (let i = 0; i < n; i++) relaxRow(a, i, b, x, d, omega);
    } else {
      const { colorPtr, rowsByColor, numColors } = coloring;
      for (let c = 0; c < numColors; c++) {
        for (let p = colorPtr[c]!; p < colorPtr[c + 1]!; p++) relaxRow(a, rowsByColor[p]!, b, x, d, omega);
      }
    }
    rel = Math.sqrt(k.residual(ka, x, b, r)) / ctx.bNorm;
    const reason = monitor.step(rel, x);
    if (reason !== null) return { reason, label };
  }
}
