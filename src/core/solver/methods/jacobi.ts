import { nnzOf } from "../../sparse/csr.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { diagonal } from "../../sparse/structure.ts";
import { SolverError } from "../errors.ts";

/**
 * (Damped) Jacobi iteration x ← x + ω D⁻¹ (b − A x). Converges for strictly diagonally dominant A (and for
 * SPD A when ω is small enough); each iteration is one residual kernel plus one diagonal scaling.
 */
export function runJacobi(ctx: MethodContext, omega: number): MethodOutcome {
  const { kernels: k, ka, b, x, monitor, n } = ctx;
  const d = diagonal(ctx.a);
  const dinv = ctx.vec(0);
  for (let i = 0; i < n; i++) {
    const di = d[i]!;
    if (di === 0)
      throw new SolverError("zero_diagonal", `jacobi needs a nonzero diagonal; row ${i} has none`);
    dinv[i] = omega / di;
  }
  const r = ctx.vec(1);
  const label = omega === 1 ? "jacobi" : `jacobi(omega=${omega})`;
  monitor.beginStage({ label, flopsPerIter: 2 * nnzOf(ctx.a) + 5 * n, memoryBytes: ctx.memoryBytes(4) });
  let rel = ctx.trueRel(r);
  monitor.record(rel, x);
  if (rel <= ctx.tol) return { reason: "converged", label };
  for (;;) {
    for (let i = 0; i < n; i++) x[i] = x[i]! + dinv[i]! * r[i]!;
    rel = Math.sqrt(k.residual(ka, x, b, r)) / ctx.bNorm;
    const reason = monitor.step(rel, x);
    if (reason !== null) return { reason, label };
  }
}
