import { ApiCallError, type ApiClient } from "./api-client.ts";

/** What the solve tool reports as it goes: one MCP progress notification's fields. */
export interface SolveProgress {
  readonly progress: number;
  readonly message: string;
}

export interface SolveToolOptions {
  /** Progress is reported at most this often (the first update always; the stream may carry 50 a second). */
  readonly progressIntervalMs: number;
  /** Above this n, the result gives x's URL instead of x (an agent's context is not the place for 10⁴ numbers). */
  readonly xInlineMax: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A solve_result (or a status's result) as the tool returns it: x inline when short, else its absolute
 * URL (GET it with the same key). Everything else the server said is kept.
 */
export function shrinkResult(
  client: ApiClient,
  result: Record<string, unknown>,
  xInlineMax: number,
): Record<string, unknown> {
  const { type: _type, x, x_url: xUrl, ...rest } = result;
  const sessionId = String(result["session_id"] ?? "");
  if (Array.isArray(x) && x.length <= xInlineMax) return { ...rest, x };
  if (Array.isArray(x) || typeof xUrl === "string") {
    const url = typeof xUrl === "string" ? xUrl : `/api/v1/sessions/${encodeURIComponent(sessionId)}/x`;
    return { ...rest, x_url: client.url(url), x_note: `x has ${String(result["n"])} entries: GET x_url` };
  }
  return rest;
}

/**
 * The `solve` tool: POST /api/v1/solve-stream with the arguments as the body (the server validates them),
 * read the NDJSON stream to its solve_result, reporting iteration_update lines as progress (throttled,
 * only when the client asked for progress). Aborting (the client cancelled the call) closes the stream,
 * which cancels the session on the server.
 */
export async function runSolve(
  client: ApiClient,
  args: unknown,
  options: SolveToolOptions,
  signal: AbortSignal,
  onProgress: ((p: SolveProgress) => Promise<void>) | null,
): Promise<Record<string, unknown>> {
  if (!isRecord(args)) throw new ApiCallError("invalid_arguments", "solve takes the solve request object", 0);
  let result: Record<string, unknown> | null = null;
  let lastSentAt = -Infinity;
  let lastIteration = -1;
  for await (const line of client.postNdjson("/api/v1/solve-stream", args, signal)) {
    if (line["type"] === "solve_result") {
      result = line;
    } else if (line["type"] === "iteration_update" && onProgress !== null) {
      const iteration = Number(line["iteration"]);
      const now = performance.now();
      // Progress must increase (MCP): a coalesced or replayed update never goes backwards.
      if (iteration > lastIteration && now - lastSentAt >= options.progressIntervalMs) {
        lastSentAt = now;
        lastIteration = iteration;
        const residual = Number(line["residual_norm"]);
        await onProgress({
          progress: iteration,
          message: `iteration ${iteration}, residual ${residual.toExponential(3)}`,
        });
      }
    }
  }
  if (result === null) throw new ApiCallError("stream_ended", "the stream ended before its solve_result", 0);
  const error = result["error"];
  if (isRecord(error)) {
    const code = typeof error["code"] === "string" ? error["code"] : "solve_failed";
    throw new ApiCallError(code, String(error["message"] ?? code), 200);
  }
  return shrinkResult(client, result, options.xInlineMax);
}
