import { writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { seededRandom } from "../core/base/seeded-random.ts";
import type { SolveJob } from "../core/jobs/model.ts";
import { SwarmError } from "../core/net/swarm.ts";
import { writeMatrixMarketVector } from "../core/sparse/matrix-market.ts";
import { randomRhs } from "../core/sparse/problem.ts";
import { defaultIdentityPath, FileIdentityStore } from "../node/identity-file.ts";
import { FileJobStore } from "../node/file-job-store.ts";
import type { NodeRequester } from "../node/requester.ts";
import { CliError, describeFsError, EXIT_NOT_CONVERGED, EXIT_OK, EXIT_SWARM_ERROR } from "./cli-error.ts";
import { reportFailure } from "./failure.ts";
import type { CliIo } from "./io.ts";
import { loadMatrix, loadRhs } from "./read-inputs.ts";
import { DEFAULT_MAX_ITER, DEFAULT_TOL, parseTolerance } from "./solve-options.ts";
import { parsePositiveInt, parseServerUrl } from "./swarm-options.ts";
import { withJoinTimeout } from "./volunteer-command.ts";

interface SubmitCliOptions {
  server: string;
  rhs?: string;
  randomRhs?: number;
  seed?: number;
  out?: string;
  json?: boolean;
  resume?: string;
  identity?: string;
  store?: string;
  tol: number;
  maxIter: number;
}

const HELP_AFTER = `
Submits a sparse solve to the swarm at --server as a headless requester (the Dashboard's requester:
same placement, and every result is verified here with our own residual before it is accepted), waits for
it and writes the solutions. MATRIX is a Matrix Market file or a generated name (poisson2d-K). Without
--rhs or --random-rhs, b = A*1. --random-rhs N makes N seeded random right-hand sides (one unit each).

The job is kept in ~/.open-swarm/jobs (--store DIR): after Ctrl-C or a crash, --resume JOB_ID picks it up
where it stopped (verified units are not recomputed).

Exit codes: 0 every unit verified, 2 the job failed (some unit could not be solved or verified), 1 bad
input or options, 4 could not join the swarm, 130 interrupted (the job is kept for --resume).

Example:
  open-swarm submit ../shared/matrices/bcsstk13.mtx --random-rhs 8 --server http://127.0.0.1:8080 --json
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

/** The progress line: units verified of all, and volunteers linked. */
function unitsLine(requester: NodeRequester, jobId: string): string {
  const units = requester.runtime.units(jobId);
  const done = units.filter((u) => u.status === "done").length;
  const volunteers = requester.swarm.mesh.connectedPeerIds().length;
  return `units verified ${done}/${units.length}  volunteers ${volunteers}`;
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
    if (!options.resume && matrix === undefined) {
      throw new CliError("file_not_found", "a MATRIX argument is needed (or --resume JOB_ID)");
    }
    if (options.rhs !== undefined && options.randomRhs !== undefined) {
      throw new CliError("file_unreadable", "--rhs and --random-rhs exclude each other");
    }
    // Loaded here, not at the top: it brings the native WebRTC module, which `solve` never needs.
    const { NodeRequester } = await import("../node/requester.ts");
    requester = await withJoinTimeout(
      NodeRequester.start({
        server: options.server,
        identityStore: new FileIdentityStore(options.identity ?? defaultIdentityPath()),
        store: new FileJobStore(options.store ?? path.join(homedir(), ".open-swarm", "jobs")),
        onError: (message) => io.stderr.write(`open-swarm submit: ${message}\n`),
      }),
    );
    let jobId = options.resume;
    if (jobId === undefined) {
      const { a } = loadMatrix(matrix!);
      let rhs: Float64Array[];
      let rhsSeed: number | undefined;
      if (options.randomRhs !== undefined) {
        rhsSeed = options.seed ?? Math.floor(Math.random() * 0x7fff_ffff);
        const rng = seededRandom(rhsSeed);
        rhs = Array.from({ length: options.randomRhs }, () => randomRhs(a.rows, rng));
      } else {
        rhs = [loadRhs(options.rhs, a)];
      }
      jobId = await requester.runtime.submit({
        name: path.basename(matrix!),
        kind: rhs.length > 1 ? "multi-rhs" : "solve",
        a,
        rhs,
        method: "cg",
        tol: options.tol,
        maxIter: options.maxIter,
        ...(rhsSeed !== undefined ? { rhsSeed } : {}),
      });
    } else if (!requester.job(jobId)) {
      throw new CliError("file_not_found", `no running job ${jobId} in the store`);
    }
    io.stderr.write(`job ${jobId} (resume with --resume ${jobId})\n`);
    process.on("SIGINT", onSigint);
    const tty = io.stderr.isTTY === true;
    let last = "";
    const live = requester;
    const end = await Promise.race([
      live.finished(jobId, () => {
        const line = unitsLine(live, jobId!);
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
    return await report(requester, end, options, io, performance.now() - started);
  } catch (error) {
    if (error instanceof SwarmError) {
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

async function report(
  requester: NodeRequester,
  job: SolveJob,
  options: SubmitCliOptions,
  io: CliIo,
  ms: number,
): Promise<number> {
  const units = requester.runtime.units(job.id);
  const volunteers = [...new Set(units.flatMap((u) => (u.result ? [u.result.volunteerId] : [])))];
  const ok = job.status === "done";
  let worst: number | null = null;
  if (ok) {
    const { xs, relResiduals } = await requester.runtime.certifiedSolutions(job.id);
    worst = Math.max(...relResiduals);
    if (options.out !== undefined) {
      xs.forEach((x, k) => {
        const file = xs.length === 1 ? options.out! : `${options.out!}.${k}`;
        try {
          writeFileSync(file, writeMatrixMarketVector(x));
        } catch (e) {
          throw new CliError("write_failed", `cannot write ${file}: ${describeFsError(e).text}`);
        }
      });
    }
  }
  const summary = {
    job_id: job.id,
    status: job.status,
    units: units.length,
    units_done: units.filter((u) => u.status === "done").length,
    volunteers,
    worst_rel_residual: worst,
    message: job.outcome?.message ?? null,
    ms: Math.round(ms),
  };
  if (options.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    io.stdout.write(
      `${job.status}: ${summary.units_done}/${summary.units} units verified` +
        (worst !== null ? `, worst relative residual ${worst.toExponential(2)}` : "") +
        `, ${volunteers.length} volunteer(s), ${(ms / 1000).toFixed(1)} s\n`,
    );
  return ok ? EXIT_OK : EXIT_NOT_CONVERGED;
}
