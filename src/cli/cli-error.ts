import { CodedError } from "../core/base/coded-error.ts";

/** Exit codes of every open-swarm command (documented in `open-swarm solve --help`). */
export const EXIT_OK = 0;
/** Bad input: unreadable or malformed files, invalid options, a request the solver refuses. */
export const EXIT_INPUT_ERROR = 1;
/** The solve ran but did not reach the tolerance (the report says how far it got). */
export const EXIT_NOT_CONVERGED = 2;
/** volunteer/submit: the swarm could not be joined or was lost (server unreachable, identity refused). */
export const EXIT_SWARM_ERROR = 4;
/** A bug or an environment failure we did not anticipate (set OPEN_SWARM_DEBUG=1 for the stack). */
export const EXIT_INTERNAL_ERROR = 3;

/** Failures that belong to the command line itself (files, backends), next to core's InputError. */
export type CliErrorCode =
  | "file_not_found"
  | "file_unreadable"
  | "write_failed"
  | "backend_unavailable"
  /** Options that cannot go together (commander's own usage errors are reported with this code too). */
  | "invalid_option";

export class CliError extends CodedError<CliErrorCode> {
  override readonly name = "CliError";
}

/** Node's fs errors carry a string `code` ("ENOENT", ...); describe the common ones in words. */
export function describeFsError(e: unknown): { code: string; text: string } {
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  const text =
    code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "EISDIR"
          ? "is a directory"
          : e instanceof Error
            ? e.message
            : String(e);
  return { code, text };
}
