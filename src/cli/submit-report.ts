import { writeFileSync } from "node:fs";
import type { SolveJob } from "../core/jobs/model.ts";
import { writeMatrixMarketVector } from "../core/sparse/matrix-market.ts";
import type { NodeRequester } from "../node/requester.ts";
import { CliError, describeFsError, EXIT_NOT_CONVERGED, EXIT_OK } from "./cli-error.ts";
import type { CliIo } from "./io.ts";

export interface SubmitReportOptions {
  readonly out?: string;
  readonly json?: boolean;
  /** Units already verified when this run started (a --resume: they were not computed again). */
  readonly unitsVerifiedBefore: number;
}

/**
 * The end of `open-swarm submit`: x (certified here, with our own residual, as the Dashboard does)
 * written to --out, and a one-line or JSON summary. Returns the exit code.
 */
export async function reportSubmit(
  requester: NodeRequester,
  job: SolveJob,
  options: SubmitReportOptions,
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
    if (options.out !== undefined) writeSolutions(options.out, xs);
  }
  const stats = job.kind === "distributed-solve" ? requester.runtime.distributedStats(job.id) : null;
  const summary = {
    job_id: job.id,
    kind: job.kind,
    status: job.status,
    units: units.length,
    units_done: units.filter((u) => u.status === "done").length,
    units_verified_before: options.unitsVerifiedBefore,
    volunteers,
    worst_rel_residual: worst,
    message: job.outcome?.message ?? null,
    ms: Math.round(ms),
    ...(stats !== null
      ? {
          distributed: {
            blocks: units.length,
            iterations: stats.iterations,
            resumed_from: stats.resumedFrom,
            failovers: stats.failovers,
            blamed: stats.blamed,
            method: stats.label,
          },
        }
      : {}),
  };
  if (options.json === true) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const what =
      stats !== null
        ? `${units.length} blocks, ${stats.iterations} iterations` +
          (stats.resumedFrom > 0 ? ` (resumed from ${stats.resumedFrom})` : "")
        : `${summary.units_done}/${summary.units} units verified`;
    io.stdout.write(
      `${job.status}: ${what}` +
        (worst !== null ? `, worst relative residual ${worst.toExponential(2)}` : "") +
        `, ${volunteers.length} volunteer(s), ${(ms / 1000).toFixed(1)} s\n`,
    );
  }
  return ok ? EXIT_OK : EXIT_NOT_CONVERGED;
}

function writeSolutions(out: string, xs: readonly Float64Array[]): void {
  xs.forEach((x, k) => {
    const file = xs.length === 1 ? out : `${out}.${k}`;
    try {
      writeFileSync(file, writeMatrixMarketVector(x));
    } catch (e) {
      throw new CliError("write_failed", `cannot write ${file}: ${describeFsError(e).text}`);
    }
  });
}
