import type { CsrMatrix } from "../core/sparse/csr.ts";
import { relativeResidual } from "../core/sparse/ops.ts";
import { solveCold, type UpdatedSystem } from "../core/solver/updates/index.ts";
import type { Kernels } from "../core/solver/kernels.ts";
import { solve } from "../core/solver/solve.ts";
import type { SolveOptions, SolveResult } from "../core/solver/types.ts";

export interface UpdateRun {
  warm: SolveResult;
  /** Null with --no-cold-compare. */
  cold: SolveResult | null;
  /** ‖b − A x‖/‖b‖ of the first solve's x on the updated system: where the warm start began (cold: 1). */
  warmStartResidual: number;
}

/**
 * The second half of `solve --update`: re-solve the updated system warm from the first x, then (unless
 * told not to) cold from zero with the same options and kernels, so "iterations saved" is measured in the
 * same run rather than estimated. Results' x are copied: wasm vectors die with the kernels.
 */
export function runUpdatedSolve(
  sys: UpdatedSystem,
  x: Float64Array,
  options: SolveOptions,
  kernels: Kernels,
  coldCompare: boolean,
): UpdateRun {
  const warmStartResidual = relativeResidual(sys.a, x, sys.b);
  const warmResult = solve(sys.a, sys.b, { ...options, x0: x }, kernels);
  const warm = { ...warmResult, x: warmResult.x.slice() };
  const cold = coldCompare ? solveCold(sys.a, sys.b, options, kernels) : null;
  return { warm, cold, warmStartResidual };
}

/** The `update` object of `solve --json`. */
export interface UpdateReport {
  mode: "set" | "add";
  matrix_file: string | null;
  rhs_file: string | null;
  matrix_entries: number;
  rhs_entries: number;
  /** Entries that were outside A's pattern and were inserted. */
  new_entries: number;
  warm_start_residual: number | null;
  iterations_warm: number;
  /** Null when the cold solve was not run (--no-cold-compare). */
  iterations_cold: number | null;
  cold_converged: boolean | null;
  /** iterations_cold − iterations_warm (null without the cold solve). */
  saved: number | null;
  warm_ms: number;
  cold_ms: number | null;
  /** The first solve, of the system before the update. */
  initial: {
    converged: boolean;
    iterations: number;
    rel_residual: number | null;
    ms: number;
    method: string[];
  };
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function buildUpdateReport(
  run: UpdateRun,
  initial: SolveResult,
  sys: UpdatedSystem & { a: CsrMatrix },
  files: {
    matrix: string | null;
    rhs: string | null;
    mode: "set" | "add";
    matrixEntries: number;
    rhsEntries: number;
  },
): UpdateReport {
  return {
    mode: files.mode,
    matrix_file: files.matrix,
    rhs_file: files.rhs,
    matrix_entries: files.matrixEntries,
    rhs_entries: files.rhsEntries,
    new_entries: sys.newEntries,
    warm_start_residual: finite(run.warmStartResidual),
    iterations_warm: run.warm.iterations,
    iterations_cold: run.cold?.iterations ?? null,
    cold_converged: run.cold?.converged ?? null,
    saved: run.cold === null ? null : run.cold.iterations - run.warm.iterations,
    warm_ms: run.warm.ms,
    cold_ms: run.cold?.ms ?? null,
    initial: {
      converged: initial.converged,
      iterations: initial.iterations,
      rel_residual: finite(initial.relResidual),
      ms: initial.ms,
      method: initial.methodPath,
    },
  };
}

/** Human lines for the update (printed before the final report). */
export function formatUpdate(u: UpdateReport): string {
  const init = u.initial;
  const lines = [
    `initial solve: ${init.converged ? "converged" : "NOT converged"} in ${init.iterations} iterations ` +
      `(${init.ms.toFixed(1)} ms), relative residual ${init.rel_residual?.toExponential(3) ?? "not finite"}`,
    `update (${u.mode}): ${u.matrix_entries} entries of A (${u.new_entries} new), ${u.rhs_entries} of b; ` +
      `warm start at residual ${u.warm_start_residual?.toExponential(3) ?? "not finite"}`,
  ];
  if (u.iterations_cold === null) {
    lines.push(`warm re-solve: ${u.iterations_warm} iterations (cold solve not run: --no-cold-compare)`);
  } else {
    const pct = u.iterations_cold > 0 ? ` (${((100 * u.saved!) / u.iterations_cold).toFixed(0)}%)` : "";
    const coldNote = u.cold_converged === false ? "; the cold solve did NOT converge" : "";
    lines.push(
      `warm re-solve: ${u.iterations_warm} iterations vs cold ${u.iterations_cold}: saved ${u.saved}${pct}${coldNote}`,
    );
  }
  return lines.join("\n") + "\n";
}
