import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { solveRequest } from "../../../src/core/sparse/solve-request-body.ts";
import { call, post, tridiagonalRequest, until } from "./helpers.ts";

// Helpers of the jobs tests (jobs.test.ts, jobs-swarm.test.ts): job bodies, and waiting on a job's status.

export type Doc = Record<string, unknown>;

/** A solve job on the tridiagonal [-1, 4, -1] matrix of size n with `extra` (rhs, vector, distribute...). */
export function tridiagonalJob(n: number, extra: Doc = {}): Doc {
  const { matrix } = tridiagonalRequest(n);
  return { kind: "solve", matrix, method: "cg", options: { tolerance: 1e-10 }, ...extra };
}

/** `count` right-hand sides of size n, each different (b_k[i] = 1 + ((i + k) mod 7)). */
export function rhsRows(n: number, count: number): number[][] {
  return Array.from({ length: count }, (_, k) => Array.from({ length: n }, (_, i) => 1 + ((i + k) % 7)));
}

/** A solve job that cannot finish for many seconds (helpers.ts slowRequest's system, as a job). */
export function slowJob(k: number): Doc {
  const body = solveRequest(
    poisson2d(k),
    "jacobi",
    { tolerance: 1e-14, max_iterations: 10_000_000 },
    () => 1,
  );
  return {
    kind: "solve",
    matrix: body["matrix"],
    vector: body["vector"],
    method: "jacobi",
    options: body["options"],
  };
}

/** ‖b − A x‖/‖b‖ for the tridiagonal [-1, 4, -1] matrix, computed here (independently of the server). */
export function tridiagonalResidual(b: readonly number[], x: readonly number[]): number {
  let r2 = 0;
  let b2 = 0;
  for (let i = 0; i < b.length; i++) {
    const ax = 4 * x[i]! - (i > 0 ? x[i - 1]! : 0) - (i + 1 < b.length ? x[i + 1]! : 0);
    r2 += (b[i]! - ax) ** 2;
    b2 += b[i]! ** 2;
  }
  return Math.sqrt(r2 / b2);
}

/** POSTs a job; returns its 202 answer. */
export async function submitJob(base: string, body: Doc, headers: Record<string, string> = {}): Promise<Doc> {
  const res = await post(base, "/api/v1/jobs", body, headers);
  if (res.status !== 202) throw new Error(`POST /api/v1/jobs: ${res.status} ${await res.text()}`);
  return (await res.json()) as Doc;
}

/** GET /jobs/:id. */
export async function jobStatus(
  base: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<Doc> {
  return (await (await call(base, `/api/v1/jobs/${id}`, headers)).json()) as Doc;
}

/** Waits until the job's status satisfies `check` (generous timeout); returns that status. */
export async function jobWhen(
  base: string,
  id: string,
  check: (status: Doc) => boolean,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Doc> {
  let last: Doc = {};
  await until(async () => check((last = await jobStatus(base, id, headers))), timeoutMs);
  return last;
}

export const finished = (s: Doc): boolean => ["done", "failed", "cancelled"].includes(String(s["status"]));

/** GET /jobs/:id/results as JSON (whatever the status). */
export async function jobResults(
  base: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(base, `/api/v1/jobs/${id}/results`, headers);
}

/** Where each unit of a job ran, from its status. */
export const unitsWhere = (status: Doc): unknown[] => (status["units"] as Doc[]).map((u) => u["where"]);

/** Submits a job, waits until it has ended; returns its final status and, if done, its x vectors. */
export async function runJob(base: string, body: Doc): Promise<{ status: Doc; x: number[][] }> {
  const accepted = await submitJob(base, body);
  const id = String(accepted["job_id"]);
  const status = await jobWhen(base, id, finished);
  if (status["status"] !== "done") return { status, x: [] };
  const results = (await (await jobResults(base, id)).json()) as { x: number[][] };
  return { status, x: results.x };
}
