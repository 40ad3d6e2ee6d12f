import { z } from "zod";
import type { JobStore } from "../job-store.ts";
import { RESIDUAL_HISTORY_CAP, type RequesterView } from "./view.ts";

/**
 * What a job's page shows that only this session's messages knew: the residual history (the chart) and
 * what each verified unit's result claimed (final iteration, the volunteer's own residual). Saved while the
 * job runs (throttled) and when it ends, so a reload still draws the chart and the unit table of a finished
 * job. Bounded (RESIDUAL_HISTORY_CAP points, one claim per unit). Kept in the blob table under
 * "view/<jobId>" like job-meta.ts, so it needs no schema change; read back only for the jobs shown.
 */

/** Units a snapshot records claims for (a job has at most this many; more are dropped, not stored). */
const MAX_UNIT_CLAIMS = 8_192;

const residual = z.number().nonnegative().max(Number.MAX_VALUE);

const snapshotSchema = z.strictObject({
  history: z
    .array(
      z.object({
        iteration: z.number().int().min(0),
        residual,
        /** Which unit reported the point, when the view records it (charts draw one line per unit). */
        unit: z.number().int().min(0).optional(),
      }),
    )
    .max(RESIDUAL_HISTORY_CAP),
  claims: z
    .array(
      z.strictObject({
        unitId: z.string().max(200),
        iterations: z.number().int().min(0),
        relResidual: residual.nullable(),
      }),
    )
    .max(MAX_UNIT_CLAIMS),
});
type ViewSnapshot = z.infer<typeof snapshotSchema>;

const keyOf = (jobId: string): string => `view/${jobId}`;

export async function saveViewSnapshot(
  repo: JobStore,
  view: RequesterView,
  jobId: string,
  unitIds: readonly string[],
  nowMs: number,
): Promise<void> {
  const claims: ViewSnapshot["claims"] = [];
  for (const unitId of unitIds.slice(0, MAX_UNIT_CLAIMS)) {
    const c = view.unitClaims(unitId);
    if (c !== null) claims.push({ unitId, iterations: c.iterations, relResidual: c.relResidual });
  }
  const history = view.residualHistory(jobId).slice(-RESIDUAL_HISTORY_CAP);
  const snapshot: ViewSnapshot = { history: [...history], claims };
  await repo.putBlob(keyOf(jobId), new TextEncoder().encode(JSON.stringify(snapshot)), nowMs);
}

/** Puts a saved snapshot back into the view (nothing if none was saved or it does not parse). */
export async function loadViewSnapshot(repo: JobStore, view: RequesterView, jobId: string): Promise<void> {
  const bytes = await repo.getBlob(keyOf(jobId));
  if (bytes === undefined) return;
  let parsed;
  try {
    parsed = snapshotSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return;
  }
  if (!parsed.success) return;
  view.restoreResidualHistory(jobId, parsed.data.history);
  for (const c of parsed.data.claims) {
    if (view.unitClaims(c.unitId) === null)
      view.setUnitClaims(c.unitId, { iterations: c.iterations, relResidual: c.relResidual });
  }
}
