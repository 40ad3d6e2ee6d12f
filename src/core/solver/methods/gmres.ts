import { nnzOf } from "../../sparse/csr.ts";
import type { MethodContext, MethodOutcome } from "./context.ts";
import { buildPreconditioner, labelWith } from "./krylov-precond.ts";
import type { PreconditionerName } from "../types.ts";

/** Cycles in a row whose true residual disagrees with the Givens estimate before we call it stagnation. */
const MAX_FALSE_CONVERGENCE = 5;

/**
 * Restarted GMRES(m) with right preconditioning (A M⁻¹ u = r, x += M⁻¹ u), modified Gram–Schmidt through the
 * kernels, and Givens rotations so the residual norm of every inner step is known without forming x. Each
 * cycle starts from the true residual of the current x, so a restart (or a warm start) solves for the
 * correction. Work vectors: slots 0..3 scratch, 4..4+m the Krylov basis.
 */
export function runGmres(
  ctx: MethodContext,
  restart: number,
  preconditioner: PreconditionerName,
): MethodOutcome {
  const { kernels: k, ka, x, monitor, n } = ctx;
  const m = Math.max(1, Math.min(restart, n));
  const pre = buildPreconditioner(ctx.a, preconditioner);
  const label = labelWith(`gmres(${m})`, pre, preconditioner);
  if (pre === null) return { reason: "breakdown", label, note: `${preconditioner} could not be built` };
  const note = pre.note;
  const done = (reason: MethodOutcome["reason"]): MethodOutcome =>
    note === undefined ? { reason, label } : { reason, label, note };
  const r = ctx.vec(0);
  const z = ctx.vec(1);
  const u = ctx.vec(2);
  const zero = ctx.vec(3);
  zero.fill(0);
  const basis: Float64Array[] = [];
  for (let j = 0; j <= m; j++) basis.push(ctx.vec(4 + j));
  const ld = m + 1;
  const h = new Float64Array(ld * m); // column-major Hessenberg, rotated into R in place
  const cs = new Float64Array(m);
  const sn = new Float64Array(m);
  const g = new Float64Array(m + 1);
  const y = new Float64Array(m);
  const flopsPerIter = 2 * nnzOf(ctx.a) + (2 * m + 6) * n + pre.flopsPerApply;
  monitor.beginStage({ label, flopsPerIter, memoryBytes: ctx.memoryBytes(m + 5, pre.bytes) });

  /** Correction M⁻¹ V_j y_j for the first `cols` columns, written into z. */
  const correction = (cols: number): void => {
    for (let i = cols - 1; i >= 0; i--) {
      let s = g[i]!;
      for (let l = i + 1; l < cols; l++) s -= h[i + l * ld]! * y[l]!;
      y[i] = s / h[i + i * ld]!;
    }
    u.fill(0);
    for (let i = 0; i < cols; i++) k.axpy(y[i]!, basis[i]!, u);
    pre.apply(u, z);
  };
  let cols = 0;
  /** The iterate the cycle would give now (for streamed x_partial), formed in r, which is free mid-cycle. */
  const materialize = (): Float64Array => {
    correction(cols);
    r.set(x);
    k.axpy(1, z, r);
    return r;
  };

  let falseConvergence = 0;
  let claimed = false;
  for (;;) {
    let rel = ctx.trueRel(r);
    monitor.record(rel, x);
    if (rel <= ctx.tol) return done("converged");
    if (!Number.isFinite(rel)) return done("diverged");
    // The Givens estimate said "converged" but b − A x disagrees (loss of orthogonality): retry a few times.
    if (claimed && ++falseConvergence > MAX_FALSE_CONVERGENCE) return done("stagnated");
    const beta = rel * ctx.bNorm;
    const v0 = basis[0]!;
    v0.set(r);
    k.xpby(zero, 1 / beta, v0);
    g.fill(0);
    g[0] = beta;
    let stop: MethodOutcome["reason"] | null = null;
    for (cols = 0; cols < m;) {
      const j = cols;
      const w = basis[j + 1]!;
      pre.apply(basis[j]!, z);
      k.spmv(ka, z, w);
      for (let i = 0; i <= j; i++) {
        const hij = k.dot(w, basis[i]!);
        h[i + j * ld] = hij;
        k.axpy(-hij, basis[i]!, w);
      }
      const hNext = Math.sqrt(k.dot(w, w));
      if (hNext > 0) k.xpby(zero, 1 / hNext, w);
      for (let i = 0; i < j; i++) {
        const a0 = h[i + j * ld]!;
        const a1 = h[i + 1 + j * ld]!;
        h[i + j * ld] = cs[i]! * a0 + sn[i]! * a1;
        h[i + 1 + j * ld] = -sn[i]! * a0 + cs[i]! * a1;
      }
      const hjj = h[j + j * ld]!;
      const denom = Math.hypot(hjj, hNext);
      if (denom === 0 || !Number.isFinite(denom)) {
        stop = "breakdown";
        break;
      }
      cs[j] = hjj / denom;
      sn[j] = hNext / denom;
      h[j + j * ld] = denom;
      g[j + 1] = -sn[j]! * g[j]!;
      g[j] = cs[j]! * g[j]!;
      cols = j + 1;
      rel = Math.abs(g[j + 1]!) / ctx.bNorm;
      const reason = monitor.step(rel, null, materialize);
      if (reason !== null) {
        stop = reason;
        break;
      }
      if (hNext === 0) break; // lucky breakdown: the Krylov space holds the exact correction
    }
    if (cols > 0) {
      correction(cols);
      k.axpy(1, z, x);
    }
    claimed = stop === "converged";
    if (stop === "converged" || stop === null) continue; // the loop head checks the true residual
    if (stop === "breakdown" && cols > 0) continue;
    const finalRel = ctx.trueRel(r);
    monitor.record(finalRel, x);
    return done(finalRel <= ctx.tol ? "converged" : stop);
  }
}
