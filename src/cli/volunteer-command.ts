import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { ExpertHostStats } from "../core/experts/host/index.ts";
import { ExpertError } from "../core/experts/models/index.ts";
import { SwarmError } from "../core/net/swarm.ts";
import { BLOCK_BACKEND, type VolunteerSnapshot } from "../core/jobs/volunteer/index.ts";
import { defaultIdentityPath, FileIdentityStore } from "../node/identity-file.ts";
import type { NodeVolunteer } from "../node/volunteer.ts";
import { EXIT_INPUT_ERROR, EXIT_OK, EXIT_SWARM_ERROR } from "./cli-error.ts";
import type { CliIo } from "./io.ts";
import { liveLine } from "./live-line.ts";
import { parseCpuShare, parseServerUrl, parsePositiveInt } from "./swarm-options.ts";

interface VolunteerCliOptions {
  server: string;
  identity?: string;
  cpuShare?: number;
  threads?: number;
  maxUnits?: number;
  maxLinks?: number;
  experts?: boolean;
  modelsDir?: string;
  testXpFault?: string;
  json?: boolean;
}

const HELP_AFTER = `
Joins the swarm at --server as a volunteer (the same protocol and checks as a browser tab), and computes
solve units for any requester with the wasm kernels in a worker thread. The identity (an Ed25519 key) is
kept in ~/.open-swarm/identity.json (mode 0600; a file others can read is refused) or --identity FILE.

With --experts it also hosts experts for requesters' classify and ONNX jobs (onnxruntime-node, CPU): the
site's models only, fetched from --server and checked against their sha256 as a tab does, kept in
--models-dir (default: a models folder beside the identity file).

Ctrl-C leaves cleanly: held units are given back at once (their requester reissues them without waiting
for the lease to expire), requesters of hosted experts are told it paused, links and the directory session
are closed. A second Ctrl-C exits at once.

Exit codes: 0 left cleanly, 1 bad options, 4 could not join the swarm (server unreachable, identity refused,
or with --experts a server without a model manifest).

Example:
  open-swarm volunteer --server http://127.0.0.1:8080 --cpu-share 0.5
  open-swarm volunteer --server http://127.0.0.1:8080 --experts
`;

/** The live line: units done, the current unit's progress and residual (or the iteration of a distributed
 *  block it holds), peers linked (and the most at once), signaling frames refused when there were any
 *  (floods: offers and candidates over their caps), and with --experts the expert rows served (batches, and
 *  those the requesters' checks accepted). */
export function volunteerLine(
  s: VolunteerSnapshot,
  peers: number,
  peakLinks: number,
  experts: ExpertHostStats | null = null,
  signalingRejected = 0,
): string {
  const c = s.current;
  const current =
    c === null
      ? s.status
      : c.backend === BLOCK_BACKEND
        ? `block iteration ${c.iteration ?? 0}`
        : `unit ${Math.round(c.progress * 100)}%` +
          (c.residual !== null ? ` residual ${c.residual.toExponential(2)}` : "");
  const refused = signalingRejected > 0 ? `  signaling refused ${signalingRejected}` : "";
  return `units done ${s.unitsDone}  ${current}  peers ${peers} (peak ${peakLinks})${refused}${expertsPart(experts)}`;
}

function expertsPart(experts: ExpertHostStats | null): string {
  if (!experts) return "";
  const accepted = experts.log.filter((entry) => entry.outcome === "accepted").length;
  return (
    `  experts ${experts.hosted.length} hosted, rows served ${experts.rowsServed}` +
    ` (${experts.batchesServed} batches, ${accepted} of the last ${experts.log.length} accepted)`
  );
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
    .option(
      "--threads <n>",
      "wasm threads per solve (default: by matrix size); with --experts also ORT threads per model (default 1)",
      parsePositiveInt,
    )
    .option("--max-units <k>", "leave after k units", parsePositiveInt)
    .option("--max-links <n>", "links held at most (default 64)", parsePositiveInt)
    .option("--json", "on leaving, print a JSON summary on stdout (units, links, signaling rejections)")
    .option("--experts", "also host experts (the site's models, on onnxruntime-node)")
    .option("--models-dir <dir>", "where --experts keeps verified model files (default: beside the identity)")
    // TEST ONLY: a lying or dying expert host (core/experts/host/faults.ts), as a tab's ?xp-fault=. Refused
    // unless OPEN_SWARM_TEST_MODE=1, so no real volunteer runs one by mistake.
    .addOption(new Option("--test-xp-fault <mode>").hideHelp().argParser(parseTestFaultMode))
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
  // Off a terminal, the state is the line without its running figures (unit progress, expert counts).
  const live = liveLine(
    io.stderr,
    (line) =>
      line
        .replace(/ unit \d+%.*? {2}/, " unit  ")
        .replace(/ block iteration \d+ {2}/, " block  ")
        .replace(/ {2}experts .*/, ""),
    PIPE_PROGRESS_MS,
  );
  let volunteer: NodeVolunteer | undefined;
  try {
    // Loaded here, not at the top: it brings the native WebRTC module, which `solve` never needs.
    const { NodeVolunteer } = await import("../node/volunteer.ts");
    const identityFile = options.identity ?? defaultIdentityPath();
    const experts = options.experts
      ? {
          modelCacheDir: options.modelsDir ?? path.join(path.dirname(identityFile), "models"),
          ...(options.testXpFault !== undefined ? { fault: await testFault(options.testXpFault) } : {}),
        }
      : undefined;
    volunteer = await withJoinTimeout(
      NodeVolunteer.start({
        server: options.server,
        identityStore: new FileIdentityStore(identityFile),
        ...(options.cpuShare !== undefined ? { cpuShare: options.cpuShare } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.maxUnits !== undefined ? { maxUnits: options.maxUnits } : {}),
        ...(options.maxLinks !== undefined ? { maxLinks: options.maxLinks } : {}),
        ...(experts ? { experts } : {}),
        onChange: (snapshot, peers, peakLinks, expertStats) =>
          live.show(
            volunteerLine(snapshot, peers, peakLinks, expertStats, volunteer?.signaling().rejected ?? 0),
          ),
      }),
    );
  } catch (error) {
    const swarmSide = error instanceof SwarmError || error instanceof ExpertError;
    const code = swarmSide ? error.code : "swarm_failed";
    io.stderr.write(
      `open-swarm volunteer: error [${code}]: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return swarmSide ? EXIT_SWARM_ERROR : EXIT_INPUT_ERROR;
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
  live.flush();
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigint);
  const served = volunteer.expertStats();
  io.stderr.write(
    `${tty ? "\n" : ""}left the swarm after ${volunteer.snapshot().unitsDone} units` +
      (served ? `, ${served.rowsServed} expert rows in ${served.batchesServed} batches` : "") +
      "\n",
  );
  if (options.json) io.stdout.write(`${JSON.stringify(volunteerSummary(volunteer))}\n`);
  return EXIT_OK;
}

function parseTestFaultMode(mode: string): string {
  if (process.env["OPEN_SWARM_TEST_MODE"] !== "1") {
    throw new InvalidArgumentError("a test-only fault: refused unless OPEN_SWARM_TEST_MODE=1");
  }
  return mode;
}

/** TEST ONLY (--test-xp-fault): HostFault checks the mode (and refuses outside test mode too). */
async function testFault(mode: string) {
  const { HostFault } = await import("../core/experts/host/faults.ts");
  return HostFault.create(mode, process.env["OPEN_SWARM_TEST_MODE"] === "1");
}

/** The --json summary: what the volunteer did, and every signaling frame it refused, by cause. */
function volunteerSummary(volunteer: NodeVolunteer): Record<string, unknown> {
  const snapshot = volunteer.snapshot();
  return {
    peerId: volunteer.swarm.identity.peerId,
    unitsDone: snapshot.unitsDone,
    peakLinks: volunteer.swarm.mesh.counters.peakLinks,
    expertRowsServed: volunteer.expertStats()?.rowsServed ?? null,
    signaling: volunteer.signaling(),
  };
}
