import { nnzOf } from "../../sparse/csr.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { buildPreconditioner, labelWith } from "./krylov-precond.ts";
import type { PreconditionerName } from "../types.ts";

/** Restarts (fresh shadow residual r̂ = r) allowed after a breakdown or a false convergence claim. */
const MAX_RESTARTS = 10;

/**
 * Right-preconditioned BiCGSTAB (van der Vorst 1992). One iteration = two SpMVs and two preconditioner
 * applies. A breakdown (r̂·r = 0, r̂·v = 0, t = 0 or ω = 0) restarts with r̂ = r from the true residual; after
 * MAX_RESTARTS it is reported as "breakdown". Divergence and stagnation are left to the monitor.
 */
export function runBicgstab(ctx: MethodContext, preconditioner: PreconditionerName): MethodOutcome {
  const { kernels: k, ka, x, monitor, n } = ctx;
  const pre = buildPreconditioner(ctx.a, preconditioner);
  const label = labelWith("bicgstab", pre, preconditioner);
  if (pre === null) return { reason: "breakdown", label, note: `${preconditioner} could not be built` };
  const note = pre.note;
  const done = (reason: MethodOutcome["reason"]): MethodOutcome =>
    note === undefined ? { reason, label } : { reason, label, note };
  const r = ctx.vec(0);
  const rhat = ctx.vec(1);
  const p = ctx.vec(2);
  const v = ctx.vec(3);
  const phat = ctx.vec(4);
  const shat = ctx.vec(5);
  const t = ctx.vec(6);
  const flopsPerIter = 4 * nnzOf(ctx.a) + 24 * n + 2 * pre.flopsPerApply;
  monitor.beginStage({ label, flopsPerIter, memoryBytes: ctx.memoryBytes(8, pre.bytes) });

  let rel = ctx.trueRel(r);
  monitor.record(rel, x);
  if (rel <= ctx.tol) return done("converged");
  let restarts = 0;
  restart: for (;;) {
    rhat.set(r);
    p.fill(0);
    v.fill(0);
    let rho = 1;
    let alpha = 1;
    let omega = 1;
    for (;;) {
      const rhoNext = k.dot(rhat, r);
      if (rhoNext === 0 || !Number.isFinite(rhoNext)) break;
      const beta = (rhoNext / rho) * (alpha / omega);
      rho = rhoNext;
      k.axpy(-omega, v, p);
      k.xpby(r, beta, p); // p = r + β (p − ω v)
      pre.apply(p, phat);
      k.spmv(ka, phat, v);
      const rhatV = k.dot(rhat, v);
      if (rhatV === 0 || !Number.isFinite(rhatV)) break;
      alpha = rho / rhatV;
      k.axpy(-alpha, v, r); // r now holds s = r − α v
      k.axpy(alpha, phat, x);
      const ss = k.dot(r, r);
      if (Math.sqrt(ss) / ctx.bNorm <= ctx.tol) {
        // Half-step convergence: x is already x + α p̂.
        const reason = monitor.step(Math.sqrt(ss) / ctx.bNorm, x);
        if (reason !== "converged" && reason !== null) return done(reason);
        rel = ctx.trueRel(r);
        monitor.record(rel, x);
        if (rel <= ctx.tol) return done("converged");
        if (++restarts > MAX_RESTARTS) return done("stagnated");
        continue restart;
      }
      pre.apply(r, shat);
      k.spmv(ka, shat, t);
      const tt = k.dot(t, t);
      const ts = k.dot(t, r);
      if (tt === 0 || !Number.isFinite(tt)) break;
      omega = ts / tt;
      k.axpy(omega, shat, x);
      k.axpy(-omega, t, r);
      rel = Math.sqrt(k.dot(r, r)) / ctx.bNorm;
      const reason = monitor.step(rel, x);
      if (reason === "converged") {
        rel = ctx.trueRel(r);
        monitor.record(rel, x);
        if (rel <= ctx.tol) return done("converged");
        if (++restarts > MAX_RESTARTS) return done("stagnated");
        continue restart;
      }
      if (reason !== null) return done(reason);
      if (omega === 0) break;
    }
    // Breakdown: restart from the true residual with a fresh shadow vector.
    if (++restarts > MAX_RESTARTS) return done("breakdown");
    rel = ctx.trueRel(r);
    if (!Number.isFinite(rel)) return done("breakdown");
    monitor.record(rel, x);
    if (rel <= ctx.tol) return done("converged");
  }
}
