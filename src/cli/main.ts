/**
 * The `open-swarm` command line. Subcommands register themselves here; today: solve, volunteer, submit, mcp.
 * (start and bench belong here too, each in its own *-command.ts.)
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command, CommanderError } from "commander";
import { EXIT_INPUT_ERROR, EXIT_OK } from "./cli-error.ts";
import { processIo, type CliIo } from "./io.ts";
import { registerMcpCommand } from "./mcp-command.ts";
import { registerSolveCommand } from "./solve-command.ts";
import { registerSubmitCommand } from "./submit-command.ts";
import { registerVolunteerCommand } from "./volunteer-command.ts";

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const version = (pkg as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command("open-swarm")
    .description("Open-Swarm: a volunteer compute network in the browser (sparse solvers, quantized experts)")
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerSolveCommand(program, io, setExitCode);
  registerVolunteerCommand(program, io, setExitCode);
  registerSubmitCommand(program, io, setExitCode);
  registerMcpCommand(program, io, packageVersion());
  return program;
}

/** Parses argv (as in process.argv: node, script, ...args), runs the command, returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = EXIT_OK;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version exit 0; usage errors (unknown option, bad value) are input errors.
      if (argv.includes("--json") && e.exitCode !== 0) {
        io.stdout.write(`${JSON.stringify({ error: { code: "invalid_option", message: e.message } })}\n`);
      }
      return e.exitCode === 0 ? EXIT_OK : EXIT_INPUT_ERROR;
    }
    throw e;
  }
  if (program.args.length === 0 && argv.length <= 2) {
    program.outputHelp();
  }
  return exitCode;
}

/** Entry point for bin/open-swarm.mjs: runs, waits for stdout to drain, then exits with the code. */
export async function main(): Promise<void> {
  const code = await runCli(process.argv);
  // Exit explicitly (a backend's worker threads must not keep the process alive), but only once stdout
  // has flushed, so a piped --json report is never cut short.
  process.stdout.write("", () => process.exit(code));
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) await main();
