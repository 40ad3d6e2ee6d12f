import { isSolverError } from "../core/solver/errors.ts";
import { isInputError } from "../core/sparse/errors.ts";
import { CliError, EXIT_INPUT_ERROR, EXIT_INTERNAL_ERROR } from "./cli-error.ts";
import type { CliIo } from "./io.ts";

interface FailureJson {
  error: { code: string; message: string; details?: unknown };
}

/**
 * Reports an error the way users should see it: one line with its code and specific message, no stack
 * (unless OPEN_SWARM_DEBUG=1), plus a JSON object on stdout under --json. Returns the exit code.
 */
export function reportFailure(e: unknown, json: boolean, io: CliIo, command: string): number {
  let failure: FailureJson;
  let exitCode = EXIT_INPUT_ERROR;
  if (isInputError(e)) {
    failure = { error: { code: e.code, message: e.message, details: e.details } };
  } else if (e instanceof CliError || isSolverError(e)) {
    // SolverError messages already start with their code.
    const message = isSolverError(e) ? e.message.replace(new RegExp(`^${e.code}: `), "") : e.message;
    failure = { error: { code: e.code, message } };
  } else {
    exitCode = EXIT_INTERNAL_ERROR;
    const err = e instanceof Error ? e : new Error(String(e));
    // Backends under workers/ are loaded at run time, so their error classes are recognised by shape.
    const code = "code" in err && typeof err.code === "string" ? err.code : "internal_error";
    failure = { error: { code, message: err.message } };
    if (io.env["OPEN_SWARM_DEBUG"] === "1" && err.stack !== undefined) io.stderr.write(`${err.stack}\n`);
  }
  io.stderr.write(`open-swarm ${command}: error [${failure.error.code}]: ${failure.error.message}\n`);
  if (json) io.stdout.write(`${JSON.stringify(failure)}\n`);
  return exitCode;
}
