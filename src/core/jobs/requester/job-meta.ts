import { z } from "zod";
import type { BlobWrite, JobStore } from "../job-store.ts";

/**
 * What the dashboard shows about a job that the scheduler does not need: its name, the seed its random
 * right-hand sides were made from (so b can be made again), and once it finished its worst certified
 * residual (the job list shows it without loading every unit after a reload). Kept in the job
 * repository's blob table under a key that cannot collide with a SHA-256 ("meta/<jobId>"), so it needs no
 * schema change and survives closing every tab like the job itself.
 */
export const jobMetaSchema = z.strictObject({
  name: z.string().max(200),
  rhsSeed: z.number().int().min(0).max(0xffff_ffff).optional(),
  worstRelResidual: z.number().nonnegative().max(Number.MAX_VALUE).optional(),
});
export type JobMeta = z.infer<typeof jobMetaSchema>;

const keyOf = (jobId: string): string => `meta/${jobId}`;

/** Saves the meta, in one transaction with `alongWith` (a new job's inputs). */
export async function saveJobMeta(
  repo: JobStore,
  jobId: string,
  meta: JobMeta,
  nowMs: number,
  alongWith: readonly BlobWrite[] = [],
) {
  const bytes = new TextEncoder().encode(JSON.stringify(meta));
  await repo.saveBatch({
    blobs: [...alongWith, { sha256: keyOf(jobId), bytes, nowMs }],
    results: [],
    verified: [],
    changes: { jobs: [], units: [], reputation: [] },
  });
}

export async function loadJobMeta(repo: JobStore, jobId: string): Promise<JobMeta | null> {
  const bytes = await repo.getBlob(keyOf(jobId));
  if (bytes === undefined) return null;
  try {
    const parsed = jobMetaSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
