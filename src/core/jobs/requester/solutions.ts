import { JobError } from "../../protocol/job-errors.ts";
import type { JobStore, ResultRow } from "../job-store.ts";
import type { SolveJob, WorkUnit } from "../model.ts";
import { decodeVector } from "../payload.ts";

/**
 * A job's verified solutions with this tab's certificate ‖b − Ax‖/‖b‖ of each, one per right-hand side in
 * order, from its units and their verified result rows; refused while any unit has none.
 */
export function certifiedSolutions(
  units: readonly WorkUnit[],
  rows: ReadonlyMap<string, ResultRow>,
): { xs: Float64Array[]; relResiduals: number[] } {
  const xs: Float64Array[] = [];
  const relResiduals: number[] = [];
  for (const unit of [...units].sort((p, q) => p.index - q.index)) {
    const row = rows.get(unit.id);
    if (unit.status !== "done" || row === undefined) {
      throw new JobError("invalid_state", `unit ${unit.id} has no verified result (it is ${unit.status})`);
    }
    xs.push(...row.xs);
    // A distributed solve stores x whole on block 0 (the other blocks carry no vector).
    relResiduals.push(...(row.relResiduals ?? []).slice(0, row.xs.length));
  }
  return { xs, relResiduals };
}

/** The job's right-hand sides, in order, read from the store (b can be downloaded to check x). */
export function rightHandSides(repo: JobStore, job: SolveJob): Promise<Float64Array[]> {
  const rows = job.spec.matrix.rows;
  return Promise.all(
    job.spec.rhs.map(async (ref) => {
      const bytes = await repo.getBlob(ref.sha256);
      if (bytes === undefined)
        throw new JobError("invalid_state", `right-hand side ${ref.sha256} is not stored`);
      return decodeVector(new Uint8Array(bytes), rows);
    }),
  );
}
