import { nnzOf } from "../../sparse/csr.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { ic0Preconditioner } from "../precond/ic0.ts";
import { jacobiPreconditioner } from "../precond/precond.ts";
import type { Preconditioner } from "../precond/precond.ts";

/** How many times a recursive residual may claim convergence the true residual denies before giving up. */
const MAX_TRUE_RESIDUAL_RESTARTS = 20;

/**
 * Preconditioned conjugate gradients for symmetric A (SPD for guaranteed convergence). Jacobi scaling runs
 * inside the fused cgUpdate kernel; IC(0) is applied in JS between kernels. A negative curvature p·Ap < 0
 * (indefinite A) does not stop the iteration, since CG often still converges on symmetric indefinite
 * systems; p·Ap = 0 or a non-finite value is a breakdown. Convergence of the recursive residual is checked
 * against the true residual b − A x; on disagreement CG restarts from the true residual.
 */
export function runCg(ctx: MethodContext, preconditioner: "none" | "jacobi" | "ic0"): MethodOutcome {
  const { kernels: k, ka, x, monitor, n } = ctx;
  let dinv: Float64Array | null = null;
  let pre: Preconditioner | null = null;
  let note: string | undefined;
  if (preconditioner === "jacobi") {
    const jp = jacobiPreconditioner(ctx.a);
    dinv = ctx.vec(4);
    dinv.set(jp.dinv);
    note = jp.note;
  } else if (preconditioner === "ic0") {
    pre = ic0Preconditioner(ctx.a);
    if (pre === null) {
      const why = "IC(0) impossible: a diagonal entry is not positive or every shift up to 10 broke down";
      return { reason: "breakdown", label: "cg+ic0", note: why };
    }
    note = pre.note;
  }
  const label = preconditioner === "none" ? "cg" : `cg+${pre?.name ?? preconditioner}`;
  const out = ctx.vec(5); // only out[0], out[1] are used; a full backend vector suits every backend
  const r = ctx.vec(0);
  const z = ctx.vec(1);
  const p = ctx.vec(2);
  const q = ctx.vec(3);
  const flopsPerIter = 2 * nnzOf(ctx.a) + 14 * n + (pre?.flopsPerApply ?? 0);
  monitor.beginStage({ label, flopsPerIter, memoryBytes: ctx.memoryBytes(6, pre?.bytes ?? 0) });
  const done = (reason: MethodOutcome["reason"]): MethodOutcome =>
    note === undefined ? { reason, label } : { reason, label, note };

  const precondition = (): number => {
    if (pre !== null) pre.apply(r, z);
    else if (dinv !== null) for (let i = 0; i < n; i++) z[i] = dinv[i]! * r[i]!;
    else z.set(r);
    return k.dot(r, z);
  };

  let rel = ctx.trueRel(r);
  monitor.record(rel, x);
  if (rel <= ctx.tol) return done("converged");
  let rz = precondition();
  p.set(z);
  let restarts = 0;
  for (;;) {
    const pq = k.spmvDot(ka, p, q);
    if (pq === 0 || !Number.isFinite(pq) || rz === 0) return done("breakdown");
    const alpha = rz / pq;
    k.cgUpdate(alpha, p, q, x, r, pre === null ? dinv : null, z, out);
    let rzNext = out[0]!;
    if (pre !== null) {
      pre.apply(r, z);
      rzNext = k.dot(r, z);
    }
    rel = Math.sqrt(out[1]!) / ctx.bNorm;
    const reason = monitor.step(rel, x);
    if (reason === "converged") {
      // The recursive r drifts from b − A x in finite precision: believe only the true residual.
      rel = ctx.trueRel(r);
      monitor.record(rel, x);
      if (rel <= ctx.tol) return done("converged");
      if (++restarts > MAX_TRUE_RESIDUAL_RESTARTS) return done("stagnated");
      rz = precondition();
      p.set(z);
      continue;
    }
    if (reason !== null) return done(reason);
    k.xpby(z, rzNext / rz, p);
    rz = rzNext;
  }
}
