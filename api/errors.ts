import type { ErrorRequestHandler, Response } from "express";
import { CodedError } from "../src/core/base/coded-error.ts";
import type { ServerMetrics } from "../signaling/metrics.ts";

/**
 * A refusal the API answers with `{error: {code, message, path?}}` and a 4xx (or 503 when full). Every
 * refusal is counted in the server's metrics under its code (rejected.http), so an operator sees what
 * callers get wrong and how often the limits bite.
 */
export class ApiError extends CodedError {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly path?: string,
  ) {
    super(code, message);
  }
}

export function sendError(res: Response, metrics: ServerMetrics, error: ApiError): void {
  metrics.rejectHttp(`api_${error.code}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error.status === 429 || error.status === 503) res.setHeader("Retry-After", "1");
  const body: { code: string; message: string; path?: string } = { code: error.code, message: error.message };
  if (error.path !== undefined) body.path = error.path;
  res.status(error.status).json({ error: body });
}

/** body-parser's failures (too large, not JSON, wrong charset) as specific API errors. */
function fromBodyParser(error: unknown): ApiError | null {
  const e = error as { type?: unknown; status?: unknown; message?: unknown; limit?: unknown } | null;
  if (typeof e?.type !== "string" || typeof e.status !== "number") return null;
  switch (e.type) {
    case "entity.too.large":
      return new ApiError(413, "body_too_large", `the body is over the limit of ${String(e.limit)} bytes`);
    case "entity.parse.failed":
      return new ApiError(400, "malformed_json", `the body is not valid JSON: ${String(e.message)}`);
    case "encoding.unsupported":
    case "charset.unsupported":
      return new ApiError(415, "unsupported_encoding", String(e.message));
    default:
      return e.status >= 400 && e.status < 500
        ? new ApiError(e.status, "bad_request", String(e.message))
        : null;
  }
}

/** The API's error handler: its own errors and body-parser's as JSON; anything else is a 500, logged. */
export function apiErrorHandler(metrics: ServerMetrics, log: (error: unknown) => void): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const known = error instanceof ApiError ? error : fromBodyParser(error);
    if (known !== null) {
      sendError(res, metrics, known);
      return;
    }
    log(error);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).json({ error: { code: "internal_error", message: "the server failed; see its log" } });
  };
}
