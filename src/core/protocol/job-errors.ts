import { CodedError } from "../base/coded-error.ts";

/**
 * Errors of the jobs layer for inputs a caller can get wrong (a bad job spec, an impossible partition, a
 * corrupt payload, an unknown job id). Each has a code so the dashboard and the HTTP API can say exactly
 * what was wrong; runtime events (a late result, an expired lease) are not errors but verdicts/actions.
 */
export type JobErrorCode =
  | "invalid-spec"
  | "invalid-partition"
  | "duplicate-job"
  | "unknown-job"
  | "invalid-state"
  | "bad-magic"
  | "truncated"
  | "size-mismatch"
  | "too-large"
  | "bad-row-pointers"
  | "bad-column-index"
  | "non-finite-value"
  | "unsupported-host"
  | "invalid-message";

export class JobError extends CodedError<JobErrorCode> {
  override readonly name = "JobError";

  constructor(code: JobErrorCode, message: string) {
    super(code, `${code}: ${message}`);
  }
}

export function isJobError(e: unknown): e is JobError {
  return e instanceof JobError;
}
