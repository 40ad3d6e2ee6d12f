import { CodedError } from "../base/coded-error.ts";

/**
 * Discriminated solver errors: bad input or a request the solver refuses gets one of these codes (never a
 * crash, never a silent wrong answer). A method that merely fails to converge is NOT an error: it returns a
 * SolveResult with converged:false and its reason.
 */
export type SolverErrorCode =
  | "not_square"
  | "dimension_mismatch"
  | "non_finite_rhs"
  | "non_finite_guess"
  | "non_finite_matrix"
  | "invalid_option"
  | "unknown_method"
  | "zero_diagonal"
  | "too_large_for_direct"
  | "fill_too_large"
  | "singular_matrix"
  | "backend_mismatch"
  /** Incremental updates (incremental*.ts): an index outside A or b, a non-finite value (given or produced
   *  by "add"), a batch larger than the running solve's mailbox, or kernels that refused the new matrix. */
  | "update_index_out_of_range"
  | "update_non_finite"
  | "update_too_large"
  | "update_backend";

export class SolverError extends CodedError<SolverErrorCode> {
  override readonly name = "SolverError";

  constructor(code: SolverErrorCode, message: string) {
    super(code, message);
  }
}

export function isSolverError(e: unknown): e is SolverError {
  return e instanceof SolverError;
}
