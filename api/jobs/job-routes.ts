import type { Router } from "express";
import { requireScope } from "../access.ts";
import { ApiError } from "../errors.ts";
import { zodError } from "../request.ts";
import { mountPathOf, pathParam } from "../route-table.ts";
import { ownOrigin } from "../own-origin.ts";
import { jobFor } from "./job-access.ts";
import type { JobManager } from "./job-manager.ts";
import { JOB_KINDS, jobRequestSchema } from "./job-schemas.ts";
import { jobLinks, type Job } from "./job.ts";

/**
 * POST /jobs (submit), GET /jobs (read: the caller's, every job for admin), GET /jobs/:id (read), GET
 * /jobs/:id/results (read), DELETE /jobs/:id (submit: cancel a running job, forget a finished one). A key
 * reaches only its own jobs (job-access.ts); admin reaches all.
 */
export function mountJobRoutes(router: Router, jobs: JobManager, maxResultValues: number): void {
  const { store } = jobs;

  router.post(mountPathOf("jobCreate"), (req, res) => {
    const caller = requireScope(res, "submit");
    const kind = kindOf(req.body);
    const experts = jobs.experts;
    if (kind !== "solve" && experts === undefined) {
      throw new ApiError(
        501,
        "not_available",
        `this server runs no experts, so it cannot take ${kind} jobs (only solve jobs); ask a server that hosts them`,
      );
    }
    const parsed = jobRequestSchema.safeParse(req.body);
    if (!parsed.success) throw zodError(parsed.error);
    const body = parsed.data;
    const job =
      body.kind === "solve"
        ? jobs.startSolve(body, caller.owner, ownOrigin(req))
        : jobs.startExpert(body, caller.owner, experts!);
    res.status(202).setHeader("Location", jobLinks(job.id).self);
    res.json({ job_id: job.id, status: job.status, kind: job.kind, links: jobLinks(job.id) });
  });

  router.get(mountPathOf("jobList"), (_req, res) => {
    const caller = requireScope(res, "read");
    const all = caller.scopes.has("admin");
    res.setHeader("Cache-Control", "no-store");
    res.json({ jobs: store.list(all ? null : caller.owner).map((job) => job.view()) });
  });

  router.get(mountPathOf("jobStatus"), (req, res) => {
    const job = jobFor(res, store, pathParam(req.params, "job_id"), "read");
    res.setHeader("Cache-Control", "no-store");
    res.json(job.view());
  });

  router.get(mountPathOf("jobResults"), (req, res) => {
    const job = jobFor(res, store, pathParam(req.params, "job_id"), "read");
    if (!job.finished) {
      throw new ApiError(409, "not_finished", `the job is ${job.status}; results are served once it is done`);
    }
    if (job.results === null) {
      const why = job.errors.map((e) => `${e.code}: ${e.message}`).join("; ") || "it was cancelled";
      throw new ApiError(409, `job_${job.status}`, `the job ${job.status} and has no results (${why})`);
    }
    const values = countNumbers(job.results);
    if (values > maxResultValues) {
      throw new ApiError(
        413,
        "results_too_large",
        `the results hold ${values} numbers, over this server's limit of ${maxResultValues} (API_MAX_RESULT_VALUES)`,
      );
    }
    res.json({ job_id: job.id, kind: job.kind, status: job.status, ...job.results });
  });

  router.delete(mountPathOf("jobDelete"), async (req, res) => {
    const job = jobFor(res, store, pathParam(req.params, "job_id"), "submit");
    const wasRunning = !job.finished;
    if (wasRunning) await jobs.cancel(job);
    else store.delete(job.id);
    res.json({ job_id: job.id, status: job.status, cancelled: wasRunning, removed: !wasRunning });
  });
}

/** The body's `kind`, or 400 unknown_kind naming the kinds (before the union's generic message). */
function kindOf(body: unknown): Job["kind"] {
  const kind = (body as { kind?: unknown } | null)?.kind;
  if (typeof kind === "string" && (JOB_KINDS as readonly string[]).includes(kind)) return kind as Job["kind"];
  const got = kind === undefined ? "no kind" : `kind ${JSON.stringify(kind).slice(0, 40)}`;
  throw new ApiError(400, "unknown_kind", `${got}: a job's kind is one of ${JOB_KINDS.join(", ")}`, "kind");
}

/** Numbers in a results document (arrays of numbers, nested in arrays and objects). */
function countNumbers(value: unknown): number {
  if (typeof value === "number") return 1;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + countNumbers(v), 0);
  if (value !== null && typeof value === "object") {
    return Object.values(value).reduce((sum: number, v) => sum + countNumbers(v), 0);
  }
  return 0;
}
