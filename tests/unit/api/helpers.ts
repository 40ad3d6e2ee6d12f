import { expect } from "vitest";
import { mountApi } from "../../../api/index.ts";
import { parseApiKeys } from "../../../api/keys.ts";
import type { ServerConfig } from "../../../signaling/config.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { solveRequest } from "../../../src/core/sparse/solve-request-body.ts";
import { startTestServer, type TestServer } from "../signaling/helpers.ts";

type MountOptions = NonNullable<Parameters<typeof mountApi>[2]>;

/**
 * The real server on a loopback port with the solve API mounted, as api/main.ts mounts it. The request
 * rate limit is raised (tests poll status while waiting on conditions, as often as the machine allows);
 * the limits test sets its own. The swarm requester is off unless a test turns it on (swarm.test.ts):
 * the other tests are about the server's own threads.
 */
export function startApiServer(
  api: MountOptions = {},
  server: Partial<ServerConfig> = {},
): Promise<TestServer> {
  const config: MountOptions = {
    requestRatePerS: 10_000,
    requestBurst: 10_000,
    keyRequestRatePerS: 10_000,
    keyRequestBurst: 10_000,
    ...api,
    swarm: { enabled: false, ...api.swarm },
  };
  return startTestServer({ ...server, configureApp: (app, context) => mountApi(app, context, config) });
}

/** The keys of the tests about keys: two submit+read users, a read-only key, an admin. */
export const KEYS = {
  ALICE: "alice-key-0123456789",
  BOB: "bob-key-012345678901",
  READER: "reader-key-012345678",
  ADMIN: "admin-key-0123456789",
} as const;

/** startApiServer with the KEYS configured (so loopback callers need a key too). */
export function startKeyedApiServer(api: MountOptions = {}): Promise<TestServer> {
  const { ALICE, BOB, READER, ADMIN } = KEYS;
  const keys = parseApiKeys([
    `${ALICE}:submit+read`,
    `${BOB}:submit+read`,
    `${READER}:read`,
    `${ADMIN}:admin`,
  ]);
  return startApiServer({ keys, ...api });
}

/** A solve_request body: tridiagonal [-1, 4, -1] of size n (diagonally dominant: every method converges). */
export function tridiagonalRequest(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const rowPointers = [0];
  const colIndices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const [j, v] of [
      [i - 1, -1],
      [i, 4],
      [i + 1, -1],
    ] as const) {
      if (j < 0 || j >= n) continue;
      colIndices.push(j);
      values.push(v);
    }
    rowPointers.push(values.length);
  }
  return {
    matrix: {
      rows: n,
      cols: n,
      format: "csr",
      data: { values, row_pointers: rowPointers, col_indices: colIndices },
    },
    vector: Array.from({ length: n }, (_, i) => 1 + (i % 7)),
    method: "cg",
    ...extra,
  };
}

/**
 * A solve that cannot finish for many seconds whatever the machine: Jacobi on the 2-D Poisson matrix
 * (k×k grid) to 1e-14 needs about 32 / (π²/(k+1)²) iterations of ~5k² flops each: for k = 150 over 10⁵
 * iterations on 22 500 rows, tens of seconds, while the tests that use it act within the first update.
 */
export function slowRequest(k: number, options: Record<string, unknown> = {}): Record<string, unknown> {
  return solveRequest(
    poisson2d(k),
    "jacobi",
    { tolerance: 1e-14, max_iterations: 10_000_000, ...options },
    () => 1,
  );
}

/** ‖b − A x‖ / ‖b‖ from the request body itself (csr), independently of the server. */
export function relativeResidualOf(body: Record<string, unknown>, x: readonly number[]): number {
  const { data, rows } = (body as { matrix: { rows: number; data: Record<string, number[]> } }).matrix;
  const b = (body as { vector: number[] }).vector;
  let r2 = 0;
  let b2 = 0;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = data["row_pointers"]![i]!; k < data["row_pointers"]![i + 1]!; k++) {
      s += data["values"]![k]! * x[data["col_indices"]![k]!]!;
    }
    r2 += (b[i]! - s) ** 2;
    b2 += b[i]! ** 2;
  }
  return Math.sqrt(r2 / b2);
}

export function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Reads NDJSON lines from a streaming response as they arrive. */
export async function* ndjsonLines(res: Response): AsyncGenerator<Record<string, unknown>> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== "") yield JSON.parse(line) as Record<string, unknown>;
    }
  }
}

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads SSE events (id, event, data) from a streaming response as they arrive. */
export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const field = (name: string): string =>
        block
          .split("\n")
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2) ?? "";
      yield {
        id: Number(field("id")),
        event: field("event"),
        data: JSON.parse(field("data")) as Record<string, unknown>,
      };
    }
  }
}

/** Polls `check` until it returns true (generous timeout; no fixed sleeps in the tests). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface ApiErrorBody {
  error: { code: string; message: string; path?: string };
}

/** Asserts an API refusal: its status, its code, a message; returns the error. */
export async function refused(res: Response, status: number, code: string): Promise<ApiErrorBody["error"]> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ApiErrorBody;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/** `Authorization: Bearer KEY` (plus any other headers). */
export function bearer(key: string, headers: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${key}`, ...headers };
}

/** A GET (or DELETE) with headers. */
export function call(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<Response> {
  return fetch(`${base}${path}`, { method, headers });
}

/** Reads a whole NDJSON stream; returns its lines. */
export async function collectLines(res: Response): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  for await (const line of ndjsonLines(res)) lines.push(line);
  return lines;
}
