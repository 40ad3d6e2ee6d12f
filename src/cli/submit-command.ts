import { homedir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { seededRandom } from "../core/base/seeded-random.ts";
import { SwarmError } from "../core/net/swarm.ts";
import { randomRhs } from "../core/sparse/problem.ts";
import { defaultIdentityPath, FileIdentityStore } from "../node/identity-file.ts";
import { FileJobStore } from "../node/file-job-store.ts";
import type { NodeRequester } from "../node/requester.ts";
import { CliError, EXIT_SWARM_ERROR } from "./cli-error.ts";
import { reportFailure } from "./failure.ts";
import type { CliIo } from "./io.ts";
import { loadMatrix, loadRhs } from "./read-inputs.ts";
import { DEFAULT_MAX_ITER, DEFAULT_TOL, parseTolerance } from "./solve-options.ts";
import { submitProgressLine } from "./submit-progress.ts";
import { reportSubmit } from "./submit-report.ts";
import { parseBlocks, parsePositiveInt, parseServerUrl, TooFewVolunteers } from "./swarm-options.ts";
import { withJoinTimeout } from "./volunteer-command.ts";

interface SubmitCliOptions {
  server: string;
  rhs?: string;
  randomRhs?: number;
  seed?: number;
  distribute?: number;
  volunteerWait: number;
  out?: string;
  json?: boolean;
  resume?: string;
  identity?: string;
  store?: string;
  tol: number;
  maxIter: number;
}

/** How long --distribute waits for its K volunteers by default. */
const DEFAULT_VOLUNTEER_WAIT_S = 30;

const HELP_AFTER = `
Submits a sparse solve to the swarm at --server as a headless requester (the Dashboard's requester:
same placement, and every result is verified here with our own residual before it is accepted), waits for
it and writes the solutions. MATRIX is a Matrix Market file or a generated name (poisson2d-K). Without
--rhs or --random-rhs, b = A*1. --random-rhs N makes N seeded random right-hand sides (one unit each).

--distribute K solves one system as a distributed solve over K volunteers (the Dashboard's "distribute":
A is split into K row blocks, one per volunteer, and this requester coordinates their iterations; x is
certified here at the end). It waits up to --volunteer-wait seconds for K volunteers and fails with
too_few_volunteers (exit 4) if fewer are found. The progress line shows iteration, residual and blocks.

The job is kept in ~/.open-swarm/jobs (--store DIR): after Ctrl-C or a crash, --resume JOB_ID picks it up
where it stopped: verified units are not recomputed, and a distributed solve continues from its last
persisted checkpoint.

Exit codes: 0 every unit verified, 2 the job failed (some unit could not be solved or verified), 1 bad
input or options, 4 could not join the swarm or too few volunteers, 130 interrupted (the job is kept for
--resume).

Examples:
  open-swarm submit ../shared/matrices/bcsstk13.mtx --random-rhs 8 --server http://127.0.0.1:8080 --json
  open-swarm submit poisson2d-300 --distribute 4 --server http://127.0.0.1:8080
`;

export function registerSubmitCommand(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command("submit")
    .description("submit a solve to the swarm and wait for its verified solutions")
    .argument("[matrix]", "Matrix Market file or generated name (not needed with --resume)")
    .requiredOption("--server <url>", "the Open-Swarm server (http://host:port)", parseServerUrl)
    .option("--rhs <file>", "right-hand side (Matrix Market vector)")
    .option("--random-rhs <n>", "n seeded random right-hand sides", parsePositiveInt)
    .option("--seed <n>", "seed of --random-rhs (default: random, printed)", parsePositiveInt)
    .option("--distribute <k>", "a distributed solve over k volunteers (2..64 row blocks)", parseBlocks)
    .option(
      "--volunteer-wait <s>",
      "with --distribute: seconds to find k volunteers",
      parsePositiveInt,
      DEFAULT_VOLUNTEER_WAIT_S,
    )
    .option("--tol <t>", "relative residual to reach", parseTolerance, DEFAULT_TOL)
    .option("--max-iter <n>", "iterations per right-hand side", parsePositiveInt, DEFAULT_MAX_ITER)
    .option("--out <file>", "write the solution (Matrix Market; one file per rhs as FILE.k with several)")
    .option("--json", "print a JSON report on stdout")
    .option("--resume <jobId>", "wait for a job this requester submitted before")
    .option("--identity <file>", `the identity file (default ${defaultIdentityPath()})`)
    .option("--store <dir>", "where jobs are kept (default ~/.open-swarm/jobs)")
    .addHelpText("after", HELP_AFTER)
    .action(async (matrix: string | undefined, options: SubmitCliOptions) => {
      setExitCode(await runSubmit(matrix, options, io));
    });
}

async function runSubmit(matrix: string | undefined, options: SubmitCliOptions, io: CliIo): Promise<number> {
  const json = options.json === true;
  const started = performance.now();
  let requester: NodeRequester | null = null;
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
  };
  try {
    checkOptions(matrix, options);
    // Loaded here, not at the top: it brings the native WebRTC module, which `solve` never needs.
    const { NodeRequester } = await import("../node/requester.ts");
    requester = await withJoinTimeout(
      NodeRequester.start({
        server: options.server,
        identityStore: new FileIdentityStore(options.identity ?? defaultIdentityPath()),
        store: new FileJobStore(options.store ?? path.join(homedir(), ".open-swarm", "jobs")),
        ...(options.distribute !== undefined ? { recruit: options.distribute } : {}),
        onError: (message) => io.stderr.write(`open-swarm submit: ${message}\n`),
      }),
    );
    let jobId = options.resume;
    let verifiedBefore = 0;
    if (jobId === undefined) {
      jobId = await submitNew(requester, matrix!, options, io);
    } else if (!requester.job(jobId)) {
      throw new CliError("file_not_found", `no running job ${jobId} in the store`);
    } else {
      verifiedBefore = requester.runtime.units(jobId).filter((u) => u.status === "done").length;
      io.stderr.write(`resuming ${jobId}: ${verifiedBefore} unit(s) verified before\n`);
    }
    io.stderr.write(`job ${jobId} (resume with --resume ${jobId})\n`);
    process.on("SIGINT", onSigint);
    const tty = io.stderr.isTTY === true;
    let last = "";
    const live = requester;
    const end = await Promise.race([
      live.finished(jobId, (job) => {
        if (job === undefined) return;
        const line = submitProgressLine(live, job);
        if (line === last) return;
        last = line;
        io.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      }),
      new Promise<null>((resolve) => {
        const t = setInterval(() => interrupted && (clearInterval(t), resolve(null)), 100);
      }),
    ]);
    if (tty) io.stderr.write("\n");
    if (end === null) {
      io.stderr.write(`interrupted: the job is kept; continue with --resume ${jobId}\n`);
      await requester.close();
      return 130;
    }
    const report = { unitsVerifiedBefore: verifiedBefore, ...pick(options) };
    return await reportSubmit(requester, end, report, io, performance.now() - started);
  } catch (error) {
    if (error instanceof SwarmError || error instanceof TooFewVolunteers) {
      io.stderr.write(`open-swarm submit: error [${error.code}]: ${error.message}\n`);
      if (json)
        io.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      return EXIT_SWARM_ERROR;
    }
    return reportFailure(error, json, io, "submit");
  } finally {
    process.off("SIGINT", onSigint);
    await requester?.close().catch(() => undefined);
  }
}

const pick = (o: SubmitCliOptions): { out?: string; json?: boolean } => ({
  ...(o.out !== undefined ? { out: o.out } : {}),
  ...(o.json !== undefined ? { json: o.json } : {}),
});

function checkOptions(matrix: string | undefined, options: SubmitCliOptions): void {
  if (!options.resume && matrix === undefined) {
    throw new CliError("file_not_found", "a MATRIX argument is needed (or --resume JOB_ID)");
  }
  if (options.rhs !== undefined && options.randomRhs !== undefined) {
    throw new CliError("invalid_option", "--rhs and --random-rhs exclude each other");
  }
  if (options.distribute !== undefined && (options.randomRhs ?? 1) > 1) {
    throw new CliError(
      "invalid_option",
      `a distributed solve takes one right-hand side, not ${options.randomRhs}: ` +
        "drop --distribute to solve them as a batch",
    );
  }
}

/** Reads the inputs, finds the volunteers a distributed solve needs, submits; returns the job id. */
async function submitNew(
  requester: NodeRequester,
  matrix: string,
  options: SubmitCliOptions,
  io: CliIo,
): Promise<string> {
  const { a } = loadMatrix(matrix);
  let rhs: Float64Array[];
  let rhsSeed: number | undefined;
  if (options.randomRhs !== undefined) {
    rhsSeed = options.seed ?? Math.floor(Math.random() * 0x7fff_ffff);
    const rng = seededRandom(rhsSeed);
    rhs = Array.from({ length: options.randomRhs }, () => randomRhs(a.rows, rng));
  } else {
    rhs = [loadRhs(options.rhs, a)];
  }
  const k = options.distribute;
  if (k !== undefined) {
    io.stderr.write(`finding ${k} volunteers (up to ${options.volunteerWait} s)\n`);
    const found = await requester.awaitVolunteers(k, options.volunteerWait * 1000);
    if (found < k) {
      requester.stopGathering();
      throw new TooFewVolunteers(
        "too_few_volunteers",
        `a distributed solve over ${k} volunteers, but ${found} found in ${options.volunteerWait} s ` +
          `(start more with 'open-swarm volunteer', lower --distribute, or raise --volunteer-wait)`,
      );
    }
  }
  try {
    return await requester.runtime.submit({
      name: path.basename(matrix),
      kind: k !== undefined ? "distributed-solve" : rhs.length > 1 ? "multi-rhs" : "solve",
      a,
      rhs,
      method: "cg",
      tol: options.tol,
      maxIter: options.maxIter,
      ...(k !== undefined ? { blocks: k } : {}),
      ...(rhsSeed !== undefined ? { rhsSeed } : {}),
    });
  } finally {
    // The job runs now (or was refused): the runtime's recruiter keeps or releases the links.
    requester.stopGathering();
  }
}
