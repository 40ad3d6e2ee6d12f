import { z } from "zod";
import { ApiCallError, type ApiClient } from "./api-client.ts";
import { IMAGE_VALUES, MAX_IMAGES } from "./tool-schemas.ts";
import type { SolveProgress } from "./solve-tool.ts";

/** Job states after which the job changes no more ("done": its results can be fetched). */
const FINISHED = new Set(["done", "failed", "cancelled"]);

const argsSchema = z.strictObject({
  images: z
    .array(z.array(z.number().min(0).max(1)).length(IMAGE_VALUES))
    .min(1)
    .max(MAX_IMAGES),
});

/** How often the server is asked about a running job. */
export const CLASSIFY_POLL_MS = 250;

export interface ClassifyToolOptions {
  /** How often the job's status is read while it runs. */
  readonly pollMs: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The arguments checked here first, so a bad image is named before anything is uploaded. */
function parseArgs(args: unknown): { images: number[][] } {
  const parsed = argsSchema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.join(".");
  throw new ApiCallError(
    "invalid_arguments",
    `${path || "arguments"}: ${issue.message}`,
    0,
    path || undefined,
  );
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The `classify_images` tool: POST /api/v1/jobs {kind: "classify", images}, then GET /api/v1/jobs/:id until
 * the job is done (its rows_done / rows as progress, when the client asked for it), then GET
 * /api/v1/jobs/:id/results: the server's predictions (class indices), with the class names when it gives
 * them. A failed or cancelled job is a tool error with the job's own code and message. Aborting (the
 * client cancelled the call) cancels the job on the server (DELETE /api/v1/jobs/:id).
 */
export async function runClassify(
  client: ApiClient,
  args: unknown,
  options: ClassifyToolOptions,
  signal: AbortSignal,
  onProgress: ((p: SolveProgress) => Promise<void>) | null,
): Promise<Record<string, unknown>> {
  const { images } = parseArgs(args);
  const created = await client.postJson("/api/v1/jobs", { kind: "classify", images }, signal);
  const id = isRecord(created) ? (created["id"] ?? created["job_id"]) : undefined;
  if (typeof id !== "string" || id.length === 0) {
    throw new ApiCallError("bad_response", "the server created the job but sent no job id", 0);
  }
  const path = `/api/v1/jobs/${encodeURIComponent(id)}`;
  try {
    let lastDone = -1;
    // Where the rows ran (the finished job's status has it; the results hold the predictions only).
    let rowsBySource: unknown = null;
    for (;;) {
      const status = await client.getJson(path, signal);
      if (!isRecord(status)) throw new ApiCallError("bad_response", `GET ${path} sent no job object`, 0);
      rowsBySource = status["rows_by_source"] ?? rowsBySource;
      const state = String(status["status"]);
      // The job's status (api/jobs/job.ts): progress {of: "rows", done, total} and errors [{code, message}].
      const progress = isRecord(status["progress"]) ? status["progress"] : {};
      const done = Number(progress["done"] ?? status["rows_done"]);
      if (onProgress !== null && Number.isFinite(done) && done > lastDone) {
        lastDone = done;
        await onProgress({ progress: done, message: `${done} of ${images.length} images classified` });
      }
      const errors = Array.isArray(status["errors"]) ? (status["errors"] as unknown[]) : [];
      if (state === "failed" || state === "cancelled")
        throw jobError(id, state, status["error"] ?? errors[0]);
      if (FINISHED.has(state)) break;
      await wait(options.pollMs, signal);
    }
    const results = await client.getJson(`${path}/results`, signal);
    if (!isRecord(results) || !Array.isArray(results["predictions"])) {
      throw new ApiCallError("bad_response", `GET ${path}/results sent no predictions`, 0);
    }
    return { job_id: id, rows_by_source: rowsBySource, ...results };
  } catch (error) {
    // The call was cancelled: so is the job (best effort; the server's own TTL ends it otherwise).
    if (signal.aborted) await client.deleteJson(path).catch(() => undefined);
    throw error;
  }
}

/** A job that ended without results, as a tool error carrying the job's own code when it gave one. */
function jobError(id: string, state: string, error: unknown): ApiCallError {
  const e = isRecord(error) ? error : {};
  const code = typeof e["code"] === "string" ? e["code"] : `job_${state}`;
  const message = typeof e["message"] === "string" ? e["message"] : `job ${id} ${state}`;
  return new ApiCallError(code, message, 0);
}
