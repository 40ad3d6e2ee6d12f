import { CodedError } from "../base/coded-error.ts";

/**
 * Errors of the jobs layer for inputs a caller can get wrong (a bad job spec, an impossible partition, a
 * corrupt payload, an unknown job id). Each has a code so the dashboard and the HTTP API can say exactly
 * what was wrong; runtime events (a late result, an expired lease) are not errors but verdicts/actions.
 */
export type JobErrorCode =
  | "invalid_spec"
  | "singular_matrix"
  | "invalid_partition"
  | "duplicate_job"
  | "unknown_job"
  | "invalid_state"
  | "bad_magic"
  | "truncated"
  | "size_mismatch"
  | "too_large"
  | "bad_row_pointers"
  | "bad_column_index"
  | "non_finite_value"
  | "unsupported_host"
  | "invalid_message";

export class JobError extends CodedError<JobErrorCode> {
  override readonly name = "JobError";

  constructor(code: JobErrorCode, message: string) {
    super(code, message);
  }
}

export function isJobError(e: unknown): e is JobError {
  return e instanceof JobError;
}
