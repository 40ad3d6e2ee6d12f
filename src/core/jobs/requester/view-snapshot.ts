import { z } from "zod";
import type { JobStore } from "../job-store.ts";
import { RESIDUAL_POINTS_CAP, type RequesterView } from "./view.ts";

/**
 * What a job's page shows that only this session's messages knew: the residual chart's lines and what
 * each verified unit's result claimed (final iteration, the volunteer's own residual). Saved while the job
 * runs (throttled) and when it ends, so a reload still draws the chart and the unit table of a finished
 * job. Bounded: at most SNAPSHOT_POINTS points over all lines (each line thinned evenly, its first and last
 * point kept: the last is the certificate), one claim per unit. Kept in the blob table under
 * "view/<jobId>" like job-meta.ts, so it needs no schema change; read back only for the jobs shown.
 */

/** Units (and chart lines) a snapshot records (more are dropped, not stored). */
const MAX_UNIT_CLAIMS = 8_192;
const MAX_LINES = 8_192;
/** Points over all lines of one snapshot (a 4096-line job keeps its first and last point per line). */
const SNAPSHOT_POINTS = 20_000;

const residual = z.number().nonnegative().max(Number.MAX_VALUE);

const snapshotSchema = z.strictObject({
  series: z
    .array(
      z.strictObject({
        key: z.string().max(200),
        label: z.string().max(200),
        certified: z.boolean(),
        points: z
          .array(z.strictObject({ iteration: z.number().int().min(0), residual }))
          .max(RESIDUAL_POINTS_CAP),
      }),
    )
    .max(MAX_LINES),
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
  const lines = view.residualSeries(jobId).slice(0, MAX_LINES);
  const perLine = Math.max(2, Math.floor(SNAPSHOT_POINTS / Math.max(1, lines.length)));
  const series = lines.map((line) => ({
    key: line.key,
    label: line.label,
    certified: line.certified,
    points: thin(line.points, perLine).map((p) => ({ iteration: p.iteration, residual: p.residual })),
  }));
  const snapshot: ViewSnapshot = { series, claims };
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
  view.restoreResidualSeries(jobId, parsed.data.series);
  for (const c of parsed.data.claims) {
    if (view.unitClaims(c.unitId) === null)
      view.setUnitClaims(c.unitId, { iterations: c.iterations, relResidual: c.relResidual });
  }
}

/** At most `max` (≥ 2) points, evenly spaced, the first and the last always kept. */
function thin<T>(points: readonly T[], max: number): readonly T[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]!);
}
