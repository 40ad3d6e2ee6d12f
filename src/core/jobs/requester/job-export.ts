import type { SolveJob, WorkUnit } from "../model.ts";
import type { ResultRow } from "../job-store.ts";

/**
 * A job as one JSON document for the person to keep or share: what was asked (the spec: matrix and
 * right-hand sides by SHA-256, method, tolerance), every unit with its attempts and who computed it, and
 * this tab's certificate of each verified solution. The vectors themselves are not in it (they can be
 * large): `downloads` says where the page offers them (b, x, and the residual report).
 */
export const JOB_EXPORT_FORMAT = "open-swarm-job/1";

export interface JobExport {
  readonly format: typeof JOB_EXPORT_FORMAT;
  readonly exportedAtMs: number;
  readonly name: string;
  readonly job: SolveJob;
  readonly rhsSeed: number | null;
  readonly units: readonly (WorkUnit & {
    /** This tab's ‖b − Ax‖/‖b‖ per right-hand side of the unit, once verified. */
    readonly certifiedRelResiduals: readonly number[] | null;
  })[];
  /** Per right-hand side in order, the certified residual (null where none is verified). */
  readonly certifiedRelResiduals: readonly (number | null)[];
  readonly downloads: { readonly page: string; readonly note: string };
}

export function jobExport(
  job: SolveJob,
  name: string,
  rhsSeed: number | null,
  units: readonly WorkUnit[],
  verified: ReadonlyMap<string, ResultRow>,
  pageUrl: string,
  nowMs: number,
): JobExport {
  const perRhs: (number | null)[] = Array.from({ length: job.spec.rhs.length }, () => null);
  const sorted = [...units].sort((p, q) => p.index - q.index);
  const rows = sorted.map((u) => {
    const residuals = verified.get(u.id)?.relResiduals ?? null;
    if (residuals !== null && u.task.kind === "rhs-group") {
      residuals.forEach((r, i) => {
        const k = u.task.kind === "rhs-group" ? u.task.rhsStart + i : i;
        if (k < perRhs.length) perRhs[k] = r;
      });
    } else if (residuals !== null && u.task.kind === "row-block" && residuals.length > 0) {
      perRhs[0] = residuals[0]!; // a distributed solve certifies its one x on block 0
    }
    return { ...u, certifiedRelResiduals: residuals };
  });
  return {
    format: JOB_EXPORT_FORMAT,
    exportedAtMs: nowMs,
    name,
    job,
    rhsSeed,
    units: rows,
    certifiedRelResiduals: perRhs,
    downloads: {
      page: pageUrl,
      note: "the Dashboard's Solution section of this job downloads x, b and the residual report",
    },
  };
}
