import type { Response } from "express";
import { requireScope, type Caller } from "../access.ts";
import { ApiError } from "../errors.ts";
import type { ApiScope } from "../keys.ts";
import type { Job } from "./job.ts";
import type { JobStore } from "./job-store.ts";

/** The one answer for a job the caller cannot have: missing, expired, forgotten, or another key's. */
export function unknownJob(): ApiError {
  return new ApiError(404, "unknown_job", "no such job (it never existed, was deleted, or expired)");
}

/** The job `id` if `caller` may see it: its own, or any with admin (as ownSession for sessions). */
export function ownJob(caller: Caller, store: JobStore, id: string): Job {
  const job = store.get(id);
  if (job === undefined) throw unknownJob();
  if (job.owner !== caller.owner && !caller.scopes.has("admin")) throw unknownJob();
  return job;
}

/** The job `id` if the caller has `scope` and may see it; another key's job is a 404 like a missing one. */
export function jobFor(res: Response, store: JobStore, id: string | undefined, scope: ApiScope): Job {
  return ownJob(requireScope(res, scope), store, id ?? "");
}
