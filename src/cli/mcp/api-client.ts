import { CodedError } from "../../core/base/coded-error.ts";

/**
 * A refusal of the Open-Swarm API (its `{error: {code, message, path?}}` body and HTTP status), or a call
 * that never got an answer (code server_unreachable, status 0). The MCP tools hand these back as tool
 * errors carrying the API's own code and message.
 */
export class ApiCallError extends CodedError {
  override readonly name = "ApiCallError";

  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly path?: string,
  ) {
    super(code, message);
  }
}

/** Largest NDJSON line accepted from the server (a solve_result with x inline for n = 10⁴ is ~250 KB). */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

function parseLine(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiCallError(
      "bad_response",
      `the server sent a stream line that is not a JSON object: ${line.slice(0, 80)}`,
      0,
    );
  }
  return value as Record<string, unknown>;
}

/** The API's error body, read defensively: the server may be another version, or not Open-Swarm at all. */
async function errorOf(res: Response): Promise<ApiCallError> {
  const text = await res.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === "object" && error !== null) {
    const e = error as { code?: unknown; message?: unknown; path?: unknown };
    if (typeof e.code === "string") {
      const message = typeof e.message === "string" ? e.message : e.code;
      return new ApiCallError(e.code, message, res.status, typeof e.path === "string" ? e.path : undefined);
    }
  }
  // The older `{error: "code", message}` shape of the server's own routes.
  if (typeof error === "string") {
    const message = (body as { message?: unknown }).message;
    return new ApiCallError(error, typeof message === "string" ? message : error, res.status);
  }
  return new ApiCallError("http_error", `HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
}

/** The HTTP API at `server` (an origin), with `Authorization: Bearer key` on every call when a key is set. */
export class ApiClient {
  constructor(
    readonly server: string,
    private readonly key: string | undefined,
  ) {}

  /** An absolute URL of an API path (the server answers paths like /api/v1/sessions/ID/x). */
  url(path: string): string {
    return new URL(path, this.server).href;
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.key !== undefined) headers.set("Authorization", `Bearer ${this.key}`);
    let res: Response;
    try {
      res = await fetch(this.url(path), { ...init, headers });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      const cause = (error as { cause?: { message?: unknown } }).cause?.message;
      throw new ApiCallError(
        "server_unreachable",
        `cannot reach ${this.server}: ${String(cause ?? (error as Error).message)}`,
        0,
      );
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  async getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const res = await this.call(path, { method: "GET", ...(signal ? { signal } : {}) });
    return res.json();
  }

  async postJson(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const res = await this.call(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    return res.json();
  }

  async deleteJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const res = await this.call(path, { method: "DELETE", ...(signal ? { signal } : {}) });
    return res.json();
  }

  /** POSTs `body` and yields each NDJSON line of the answer as it arrives (aborting ends the stream). */
  async *postNdjson(
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): AsyncGenerator<Record<string, unknown>> {
    const res = await this.call(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/x-ndjson" },
      body: JSON.stringify(body),
      signal,
    });
    if (res.body === null) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        if (buffered.length > MAX_LINE_CHARS) {
          throw new ApiCallError(
            "stream_line_too_long",
            `a stream line is over ${MAX_LINE_CHARS} characters`,
            0,
          );
        }
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() !== "") yield parseLine(line);
        }
      }
    } finally {
      // Leaving early (an error, the caller stopped) closes the response: the server cancels the session.
      await reader.cancel().catch(() => undefined);
    }
  }
}
