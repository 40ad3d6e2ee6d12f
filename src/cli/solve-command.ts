import { accessSync, constants, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { Option, type Command } from "commander";
import { DIRECT_ORDERINGS } from "../core/solver/ordering/index.ts";
import { nnzOf } from "../core/sparse/csr.ts";
import { writeMatrixMarketVector } from "../core/sparse/matrix-market.ts";
import { relativeResidual } from "../core/sparse/ops.ts";
import { applyUpdates, type UpdatedSystem } from "../core/solver/updates/index.ts";
import { solve } from "../core/solver/solve.ts";
import type { SolveOptions, SolveResult } from "../core/solver/types.ts";
import { PRECONDITIONER_NAMES } from "../core/protocol/solver-names.ts";
import { loadKernels } from "./backend.ts";
import { CliError, describeFsError, EXIT_NOT_CONVERGED, EXIT_OK } from "./cli-error.ts";
import type { CliIo } from "./io.ts";
import { reportFailure } from "./failure.ts";
import { createProgressLine } from "./progress.ts";
import { loadMatrix, loadRhs } from "./read-inputs.ts";
import { loadUpdates } from "./read-updates.ts";
import {
  CLI_METHODS,
  DEFAULT_MAX_ITER,
  DEFAULT_TOL,
  parsePositiveInt,
  parseTolerance,
  toMethodName,
  UPDATE_MODES,
  type SolveCliOptions,
} from "./solve-options.ts";
import { buildReport, formatReport } from "./solve-report.ts";
import { buildUpdateReport, runUpdatedSolve, type UpdateRun } from "./solve-update.ts";

/** Iterations between streamed updates when a progress line is shown. */
const UPDATE_EVERY = 10;

/**
 * Our own acceptance of the solver's answer: the residual recomputed here may differ from the solver's
 * certificate by rounding only (two f64 sums of the same terms), far below any tolerance a user asks for.
 */
const VERIFY_SLACK = 1 + 1e-6;

const HELP_AFTER = `
MATRIX is a Matrix Market file (coordinate real/integer/pattern; general, symmetric or skew-symmetric;
duplicate entries are summed), or a generated test matrix: poisson2d-K (n = K^2) or poisson3d-K (n = K^3).

Without --rhs the right-hand side is b = A*1, so the exact solution is all ones (the report gives the error).

Incremental updates: --update U.mtx (a coordinate matrix of A's size listing the entries to change) and/or
--update-rhs V.mtx (a coordinate n x 1 file of b entries, or a full array) are applied after the first solve,
which is then re-solved warm from its x. --update-mode set (default) replaces entries, add adds to them;
duplicate coordinates are summed first; entries outside A's pattern are inserted. The updated system is
also solved cold (from x = 0) to report the iterations saved (--no-cold-compare skips it). The report, --out
and the exit code are about the updated system; --json adds update: {iterations_warm, iterations_cold,
saved, ...} with the first solve under update.initial.

Exit codes: 0 converged, 2 did not converge (the report gives the residual reached), 1 bad input or
options (with the specific error), 3 internal error (OPEN_SWARM_DEBUG=1 prints the stack).

Examples:
  open-swarm solve ../shared/matrices/494_bus.mtx --json
  open-swarm solve A.mtx --rhs b.mtx --method cg --tol 1e-10 --out x.mtx
  open-swarm solve poisson2d-1000 --backend wasm --threads 2
  open-swarm solve A.mtx --update dA.mtx --update-rhs db.mtx --update-mode add --json`;

function maxErrorVsOnes(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - 1));
  return Number.isNaN(m) ? NaN : m;
}

/** Fails before the (possibly long) solve if --out cannot be written. */
function checkWritable(out: string): void {
  const dir = dirname(resolve(out));
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new CliError("write_failed", `cannot write --out ${out}: ${dir}: ${describeFsError(e).text}`);
  }
}

/** Runs one solve; returns the exit code. Every expected failure is reported, never thrown. */
export async function runSolve(matrixArg: string, opts: SolveCliOptions, io: CliIo): Promise<number> {
  try {
    if (opts.out !== undefined) checkWritable(opts.out);
    const loaded = loadMatrix(matrixArg);
    const a = loaded.a;
    const matrixName = loaded.source === "file" ? basename(matrixArg) : matrixArg;
    io.stderr.write(
      `matrix ${matrixName}: ${a.rows}x${a.cols}, ${nnzOf(a)} nonzeros ` +
        `(${loaded.source === "file" ? "read" : "generated"} in ${loaded.loadMs.toFixed(0)} ms)\n`,
    );
    const b = loadRhs(opts.rhs, a);
    const onesRhsIsZero = opts.rhs === undefined && b.every((v) => v === 0);
    if (onesRhsIsZero) {
      // A·1 = 0 means A is singular: x = 1 is one solution among many, and x = 0 is the one solve() returns.
      io.stderr.write(
        "no --rhs given: b = A*1 is zero (every row of A sums to 0, so A is singular and x = 1 is not the " +
          "only solution); b = 0 is solved by x = 0 exactly. Give --rhs to solve another system.\n",
      );
    } else if (opts.rhs === undefined) {
      io.stderr.write("no --rhs given: using b = A*1 (the exact solution is x = 1)\n");
    }
    // Read and check the updates before the (possibly long) first solve.
    const updates = loadUpdates(opts, a);
    const updated: UpdatedSystem | null = updates === null ? null : applyUpdates(a, b, updates);

    const { kernels, notes } = await loadKernels(opts.backend, opts.threads, nnzOf(a));
    for (const note of notes) io.stderr.write(`${note}\n`);
    const progress = io.stderr.isTTY === true ? createProgressLine(io.stderr) : null;
    const solveOptions: SolveOptions = {
      method: toMethodName(opts.method),
      tol: opts.tol,
      maxIter: opts.maxIter,
    };
    if (opts.preconditioner !== undefined) solveOptions.preconditioner = opts.preconditioner;
    if (opts.restart !== undefined) solveOptions.restart = opts.restart;
    if (opts.ordering !== undefined) solveOptions.directOrdering = opts.ordering;
    if (progress !== null) {
      solveOptions.updateEvery = UPDATE_EVERY;
      solveOptions.onUpdate = (u) => progress.onUpdate(u);
    }
    let result: SolveResult;
    let x: Float64Array;
    let initial: SolveResult | null = null;
    let updateRun: UpdateRun | null = null;
    try {
      result = solve(a, b, solveOptions, kernels);
      // For wasm, x may be a view of wasm memory that dispose() releases: keep a copy.
      x = result.x.slice();
      if (updated !== null) {
        initial = { ...result, x };
        updateRun = runUpdatedSolve(updated, x, solveOptions, kernels, opts.coldCompare);
        result = updateRun.warm;
        x = result.x;
      }
    } finally {
      progress?.finish();
      kernels.dispose();
    }
    // From here on: the system x solves (the updated one after --update).
    const sysA = updated?.a ?? a;
    const sysB = updated?.b ?? b;

    const verified = relativeResidual(sysA, x, sysB);
    const verifiedOk = verified <= opts.tol * VERIFY_SLACK;
    const converged = result.converged && verifiedOk;
    const reason = result.converged && !verifiedOk ? "verification_failed" : result.reason;
    if (result.converged && !verifiedOk) {
      io.stderr.write(
        `warning: the solver reported convergence (certificate ${result.relResidual}) but the recomputed ` +
          `residual is ${verified} > tol ${opts.tol}: reporting NOT converged\n`,
      );
    }

    if (opts.out !== undefined) {
      const comments = [
        `x from: open-swarm solve ${matrixName} (method ${result.methodPath.join(" -> ")}, backend ${result.backend})` +
          (updated === null ? "" : ", after the --update/--update-rhs changes (warm re-solve)"),
        `converged: ${converged} (${reason}), relative residual ${verified}`,
      ];
      try {
        writeFileSync(opts.out, writeMatrixMarketVector(x, { comments }));
      } catch (e) {
        throw new CliError("write_failed", `cannot write --out ${opts.out}: ${describeFsError(e).text}`);
      }
    }

    const report = buildReport({
      result,
      verifiedResidual: verified,
      converged,
      reason,
      requestedMethod: opts.method,
      tol: opts.tol,
      maxIter: opts.maxIter,
      matrix: matrixArg,
      n: a.rows,
      nnz: nnzOf(a),
      rhs: opts.rhs ?? "A*1",
      maxErrorVsOnes: opts.rhs === undefined && !onesRhsIsZero && updated === null ? maxErrorVsOnes(x) : null,
      loadMs: loaded.loadMs,
      out: opts.out ?? null,
    });
    if (updated !== null && updateRun !== null && initial !== null) {
      report.update = buildUpdateReport(updateRun, initial, updated, {
        matrix: opts.update ?? null,
        rhs: opts.updateRhs ?? null,
        mode: opts.updateMode,
        matrixEntries: updates?.matrix?.length ?? 0,
        rhsEntries: updates?.rhs?.length ?? 0,
      });
    }
    io.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    return converged ? EXIT_OK : EXIT_NOT_CONVERGED;
  } catch (e) {
    return reportFailure(e, opts.json, io, "solve");
  }
}

/** Adds `open-swarm solve` to the program; `setExitCode` receives the command's exit code. */
export function registerSolveCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command("solve")
    .description("solve A x = b for a sparse matrix A from a Matrix Market file")
    .argument("<matrix>", "Matrix Market file (.mtx), or poisson2d-K / poisson3d-K")
    .option("--rhs <file>", "right-hand side b as a Matrix Market vector (default: b = A*1)")
    .addOption(new Option("--method <name>", "solution method").choices(CLI_METHODS).default("hybrid"))
    .option("--tol <number>", "relative residual target ||b - Ax||/||b||", parseTolerance, DEFAULT_TOL)
    .option("--max-iter <n>", "iteration limit", parsePositiveInt, DEFAULT_MAX_ITER)
    .addOption(
      new Option("--backend <name>", "kernels (default: wasm if it loads, else js)").choices([
        "js",
        "wasm",
      ] as const),
    )
    .option(
      "--threads <n>",
      "threads for the wasm backend (default: 1 below 200k nonzeros, else all cores)",
      parsePositiveInt,
    )
    .addOption(
      new Option("--preconditioner <name>", "preconditioner for cg/bicgstab/gmres").choices(
        PRECONDITIONER_NAMES,
      ),
    )
    .option("--restart <m>", "GMRES restart length", parsePositiveInt)
    .addOption(
      new Option("--ordering <name>", "fill-reducing ordering of the direct LU (default amd)").choices(
        DIRECT_ORDERINGS,
      ),
    )
    .option("--update <file>", "A entries to change after the first solve (Matrix Market coordinate)")
    .option("--update-rhs <file>", "b entries to change after the first solve (Matrix Market)")
    .addOption(
      new Option("--update-mode <mode>", "update values replace entries (set) or are added (add)")
        .choices(UPDATE_MODES)
        .default("set"),
    )
    .option("--no-cold-compare", "with --update: skip the cold solve that measures iterations saved")
    .option("--out <file>", "write x as a Matrix Market array (full precision)")
    .option("--json", "print one JSON report object, last on stdout", false)
    .addHelpText("after", HELP_AFTER)
    .action(async (matrix: string, opts: SolveCliOptions) => {
      setExitCode(await runSolve(matrix, opts, io));
    });
}
