import type { SolveResult, StageReport } from "../core/solver/types.ts";
import { formatUpdate, type UpdateReport } from "./solve-update.ts";

/** What `open-swarm solve --json` prints (one object, last on stdout). snake_case like the HTTP API. */
export interface SolveReport {
  converged: boolean;
  /** The solver's stop reason, or "verification_failed" when our own residual check disagrees. */
  reason: string;
  iterations: number;
  /** ‖b − Ax‖₂/‖b‖₂ recomputed by the CLI from the returned x (null if not finite). */
  rel_residual: number | null;
  /** The solver's own certificate of the same quantity. */
  solver_rel_residual: number | null;
  best_residual: number | null;
  ms: number;
  backend: string;
  threads: number;
  /** The path the solver took, e.g. ["cg+jacobi"] or ["cg+ic0", "gmres(30)+ilu0"]. */
  method: string[];
  requested_method: string;
  tol: number;
  max_iter: number;
  matrix: string;
  n: number;
  nnz: number;
  /** "A*1" when b was synthesised as A·1 (exact solution all ones), else the --rhs path. */
  rhs: string;
  /** max |x_i − 1|, only when b = A·1 (the exact answer is known). */
  max_error_vs_ones?: number | null;
  load_ms: number;
  out: string | null;
  stages?: StageReport[];
  /** With --update/--update-rhs: the warm re-solve against a cold one; the fields above are the warm one. */
  update?: UpdateReport;
}

export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function fmt(v: number | null): string {
  return v === null ? "not finite" : v.toExponential(3);
}

export interface ReportInputs {
  result: SolveResult;
  verifiedResidual: number;
  converged: boolean;
  reason: string;
  requestedMethod: string;
  tol: number;
  maxIter: number;
  matrix: string;
  n: number;
  nnz: number;
  rhs: string;
  maxErrorVsOnes: number | null;
  loadMs: number;
  out: string | null;
}

export function buildReport(r: ReportInputs): SolveReport {
  const report: SolveReport = {
    converged: r.converged,
    reason: r.reason,
    iterations: r.result.iterations,
    rel_residual: finiteOrNull(r.verifiedResidual),
    solver_rel_residual: finiteOrNull(r.result.relResidual),
    best_residual: finiteOrNull(r.result.bestResidual),
    ms: r.result.ms,
    backend: r.result.backend,
    threads: r.result.threads,
    method: r.result.methodPath,
    requested_method: r.requestedMethod,
    tol: r.tol,
    max_iter: r.maxIter,
    matrix: r.matrix,
    n: r.n,
    nnz: r.nnz,
    rhs: r.rhs,
    load_ms: r.loadMs,
    out: r.out,
  };
  if (r.maxErrorVsOnes !== null) report.max_error_vs_ones = finiteOrNull(r.maxErrorVsOnes);
  if (r.result.stages !== undefined) report.stages = r.result.stages;
  return report;
}

/** The human summary printed on stdout without --json. */
export function formatReport(rep: SolveReport): string {
  const lines: string[] = [];
  if (rep.update !== undefined) lines.push(formatUpdate(rep.update).trimEnd());
  const path = rep.method.join(" -> ");
  if (rep.converged) {
    lines.push(`converged in ${rep.iterations} iterations (${rep.ms.toFixed(1)} ms) with ${path}`);
  } else {
    lines.push(
      `NOT converged (${rep.reason}) after ${rep.iterations} iterations (${rep.ms.toFixed(1)} ms) with ${path}; ` +
        `best residual reached ${fmt(rep.best_residual)}, tolerance ${rep.tol}`,
    );
  }
  lines.push(`relative residual ||b - Ax||/||b|| = ${fmt(rep.rel_residual)} (recomputed from x)`);
  if (rep.max_error_vs_ones !== undefined) lines.push(`max |x_i - 1| = ${fmt(rep.max_error_vs_ones)}`);
  lines.push(
    `backend ${rep.backend}, ${rep.threads} thread${rep.threads === 1 ? "" : "s"}; n = ${rep.n}, nnz = ${rep.nnz}`,
  );
  if (rep.out !== null) lines.push(`x written to ${rep.out}`);
  return lines.join("\n") + "\n";
}
