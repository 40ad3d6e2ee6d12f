import { ApiError } from "./errors.ts";

/** The one answer for a session the caller cannot have: missing, expired, cancelled, or another key's. */
export function unknownSession(): ApiError {
  return new ApiError(
    404,
    "unknown_session",
    "no such session (it never existed, was cancelled, or expired)",
  );
}
