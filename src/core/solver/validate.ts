import { isMethodName } from "../protocol/solver-names.ts";
import type { CsrMatrix } from "../sparse/csr.ts";
import { SolverError } from "./errors.ts";
import type { SolveOptions } from "./types.ts";

const PRECONDITIONERS: Record<string, readonly string[]> = {
  cg: ["none", "jacobi", "ic0"],
  bicgstab: ["none", "jacobi", "ilu0"],
  gmres: ["none", "jacobi", "ilu0"],
};

function finite(v: Float64Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return i;
  return -1;
}

function positive(name: string, v: number | undefined, integer: boolean): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new SolverError(
      "invalid_option",
      `${name} must be a positive ${integer ? "integer" : "number"}, got ${v}`,
    );
  }
}

/**
 * Checks everything solve() relies on, cheaply (O(nnz)), and throws a coded SolverError on the first
 * problem. The CSR invariants themselves are the parsers' job; here only shape and finiteness are checked.
 */
export function validateSolveInput(a: CsrMatrix, b: Float64Array, options: SolveOptions): void {
  if (a.rows !== a.cols)
    throw new SolverError("not_square", `matrix is ${a.rows}×${a.cols}; solvers need a square A`);
  if (a.rowPtr.length !== a.rows + 1) {
    throw new SolverError("dimension_mismatch", `rowPtr has ${a.rowPtr.length} entries for ${a.rows} rows`);
  }
  if (b.length !== a.rows) {
    throw new SolverError("dimension_mismatch", `b has length ${b.length}, A has ${a.rows} rows`);
  }
  const badB = finite(b);
  if (badB >= 0) throw new SolverError("non_finite_rhs", `b[${badB}] = ${b[badB]} is not finite`);
  const badA = finite(a.values);
  if (badA >= 0) throw new SolverError("non_finite_matrix", `matrix value #${badA} is not finite`);
  if (options.x0 !== undefined) {
    if (options.x0.length !== a.rows) {
      throw new SolverError("dimension_mismatch", `x0 has length ${options.x0.length}, A has ${a.rows} rows`);
    }
    const badX = finite(options.x0);
    if (badX >= 0) throw new SolverError("non_finite_guess", `x0[${badX}] is not finite`);
  }
  if (!isMethodName(options.method))
    throw new SolverError("unknown_method", `unknown method "${String(options.method)}"`);
  positive("tol", options.tol, false);
  if (options.maxIter === undefined) throw new SolverError("invalid_option", "maxIter is required");
  positive("maxIter", options.maxIter, true);
  positive("updateEvery", options.updateEvery, true);
  positive("restart", options.restart, true);
  positive("timeLimitMs", options.timeLimitMs, false);
  positive("stagnationWindow", options.stagnationWindow, true);
  positive("divergenceFactor", options.divergenceFactor, false);
  positive("directMaxN", options.directMaxN, true);
  positive("directMaxFill", options.directMaxFill, true);
  const sf = options.stagnationFactor;
  if (sf !== undefined && !(sf > 0 && sf <= 1)) {
    throw new SolverError("invalid_option", `stagnationFactor must be in (0, 1], got ${sf}`);
  }
  const w = options.relaxation;
  if (w !== undefined && !(w > 0 && w < 2)) {
    throw new SolverError("invalid_option", `relaxation must be in (0, 2), got ${w}`);
  }
  const allowed = PRECONDITIONERS[options.method];
  if (
    options.preconditioner !== undefined &&
    allowed !== undefined &&
    !allowed.includes(options.preconditioner)
  ) {
    throw new SolverError(
      "invalid_option",
      `${options.method} takes preconditioner ${allowed.join(" | ")}, not "${options.preconditioner}"`,
    );
  }
}
