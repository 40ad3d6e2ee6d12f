import type { ProgressStream } from "./progress.ts";

/** The streams and environment a command uses, passed in so commands can run inside tests too. */
export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
