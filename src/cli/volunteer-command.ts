import type { Command } from "commander";
import { SwarmError } from "../core/net/swarm.ts";
import type { VolunteerSnapshot } from "../core/jobs/volunteer/index.ts";
import { defaultIdentityPath, FileIdentityStore } from "../node/identity-file.ts";
import type { NodeVolunteer } from "../node/volunteer.ts";
import { EXIT_INPUT_ERROR, EXIT_OK, EXIT_SWARM_ERROR } from "./cli-error.ts";
import type { CliIo } from "./io.ts";
import { parseCpuShare, parseServerUrl, parsePositiveInt } from "./swarm-options.ts";

interface VolunteerCliOptions {
  server: string;
  identity?: string;
  cpuShare?: number;
  threads?: number;
  maxUnits?: number;
  maxLinks?: number;
}

const HELP_AFTER = `
Joins the swarm at --server as a volunteer (the same protocol and checks as a browser tab), and computes
solve units for any requester with the wasm kernels in a worker thread. The identity (an Ed25519 key) is
kept in ~/.open-swarm/identity.json (mode 0600; a file others can read is refused) or --identity FILE.

Ctrl-C leaves cleanly: held units are given back at once (their requester reissues them without waiting
for the lease to expire), links and the directory session are closed. A second Ctrl-C exits at once.

Exit codes: 0 left cleanly, 1 bad options, 4 could not join the swarm (server unreachable, identity refused).

Example:
  open-swarm volunteer --server http://127.0.0.1:8080 --cpu-share 0.5
`;

/** The live line: units done, the current unit's progress and residual, peers linked (and the most at once). */
export function volunteerLine(s: VolunteerSnapshot, peers: number, peakLinks: number): string {
  const current = s.current
    ? `unit ${Math.round(s.current.progress * 100)}%` +
      (s.current.residual !== null ? ` residual ${s.current.residual.toExponential(2)}` : "")
    : s.status;
  return `units done ${s.unitsDone}  ${current}  peers ${peers} (peak ${peakLinks})`;
}

export function registerVolunteerCommand(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command("volunteer")
    .description("compute for the swarm headless: join a server and solve work units until Ctrl-C")
    .requiredOption("--server <url>", "the Open-Swarm server (http://host:port)", parseServerUrl)
    .option("--identity <file>", `the identity file (default ${defaultIdentityPath()})`)
    .option("--cpu-share <p>", "fraction of the time to compute, 0.1..1 (default 1)", parseCpuShare)
    .option("--threads <n>", "wasm threads per solve (default: by matrix size)", parsePositiveInt)
    .option("--max-units <k>", "leave after k units", parsePositiveInt)
    .option("--max-links <n>", "links held at most (default 64)", parsePositiveInt)
    .addHelpText("after", HELP_AFTER)
    .action(async (options: VolunteerCliOptions) => {
      setExitCode(await runVolunteer(options, io));
    });
}

/** Off a terminal, a progress line at most this often. */
const PIPE_PROGRESS_MS = 1_000;

/** The directory client retries an unreachable server for ever (right for a tab); a command gives up. */
export const JOIN_TIMEOUT_MS = 20_000;

export function withJoinTimeout<T>(joining: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SwarmError("directory_failed", `no answer from the server in ${JOIN_TIMEOUT_MS / 1000} s`),
        ),
      JOIN_TIMEOUT_MS,
    );
  });
  return Promise.race([joining, timeout]).finally(() => clearTimeout(timer));
}

async function runVolunteer(options: VolunteerCliOptions, io: CliIo): Promise<number> {
  const tty = io.stderr.isTTY === true;
  let lastLine = "";
  let lastState = "";
  let lastPrintMs = -Infinity;
  let volunteer: NodeVolunteer;
  try {
    // Loaded here, not at the top: it brings the native WebRTC module, which `solve` never needs.
    const { NodeVolunteer } = await import("../node/volunteer.ts");
    volunteer = await withJoinTimeout(
      NodeVolunteer.start({
        server: options.server,
        identityStore: new FileIdentityStore(options.identity ?? defaultIdentityPath()),
        ...(options.cpuShare !== undefined ? { cpuShare: options.cpuShare } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.maxUnits !== undefined ? { maxUnits: options.maxUnits } : {}),
        ...(options.maxLinks !== undefined ? { maxLinks: options.maxLinks } : {}),
        onChange: (snapshot, peers, peakLinks) => {
          const line = volunteerLine(snapshot, peers, peakLinks);
          if (line === lastLine) return;
          lastLine = line;
          // A terminal gets one rewritten line; a pipe (a log, a test) gets a line when the state changes
          // (ignoring the progress figures) and at most one progress line per PIPE_PROGRESS_MS.
          if (tty) return void io.stderr.write(`\r\x1b[2K${line}`);
          const state = line.replace(/ unit \d+%.*? {2}/, " unit  ");
          const nowMs = performance.now();
          if (state === lastState && nowMs - lastPrintMs < PIPE_PROGRESS_MS) return;
          lastState = state;
          lastPrintMs = nowMs;
          io.stderr.write(`${line}\n`);
        },
      }),
    );
  } catch (error) {
    const code = error instanceof SwarmError ? error.code : "swarm_failed";
    io.stderr.write(
      `open-swarm volunteer: error [${code}]: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return error instanceof SwarmError ? EXIT_SWARM_ERROR : EXIT_INPUT_ERROR;
  }
  io.stderr.write(`joined ${options.server} as ${volunteer.swarm.identity.peerId}\n`);
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.stderr.write(`${tty ? "\n" : ""}leaving: giving held units back (Ctrl-C again to exit at once)\n`);
    void volunteer.leave();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  await volunteer.finished;
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigint);
  io.stderr.write(`${tty ? "\n" : ""}left the swarm after ${volunteer.snapshot().unitsDone} units\n`);
  return EXIT_OK;
}
