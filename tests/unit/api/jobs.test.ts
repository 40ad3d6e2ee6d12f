import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobEventSchema } from "../../../api/response-schemas.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { bearer, call, KEYS, post, refused, startKeyedApiServer } from "./helpers.ts";
import {
  finished,
  jobResults,
  jobStatus,
  jobWhen,
  rhsRows,
  slowJob,
  submitJob,
  tridiagonalJob,
  tridiagonalResidual,
  type Doc,
} from "./jobs-helpers.ts";
import { connectWs } from "./ws-client.ts";

// REST jobs against the real server on a loopback port, its swarm requester off (jobs-swarm.test.ts has
// the volunteers): a multi-rhs job on the server's threads that says so, each x checked here; DELETE of a
// running job; a key never sees another key's job (404), admin cancels any; bad inputs each a specific
// 4xx; classify and onnx without experts 501; a WebSocket subscriber follows a job to its end.
const { ALICE, BOB, READER, ADMIN } = KEYS;
let t: TestServer;

beforeAll(async () => {
  // No experts (null): classify and onnx answer 501 (the server's own would compute them).
  t = await startKeyedApiServer({ jobs: { maxJobsPerOwner: 6 }, experts: null });
});
afterAll(async () => {
  await t.close();
});

const A = bearer(ALICE);

describe("POST /api/v1/jobs: solve", () => {
  it("solves several right-hand sides on the server, says so, and serves every certified x", async () => {
    const n = 300;
    const rhs = rhsRows(n, 3);
    const accepted = await submitJob(t.baseUrl, tridiagonalJob(n, { rhs }), A);
    const id = String(accepted["job_id"]);
    expect(accepted).toMatchObject({ kind: "solve", links: { self: `/api/v1/jobs/${id}` } });
    const status = await jobWhen(t.baseUrl, id, finished, A);
    expect(status).toMatchObject({
      status: "done",
      computed_on: "server",
      progress: { of: "units", done: 3, total: 3 },
    });
    expect(status["notes"]).toEqual(["computed on the server: this server's swarm requester is off"]);
    expect(status["units"]).toEqual([0, 1, 2].map((index) => ({ index, status: "done", where: "server" })));
    const results = (await (await jobResults(t.baseUrl, id, A)).json()) as {
      x: number[][];
      rel_residuals: number[];
    };
    expect(results.x).toHaveLength(3);
    results.x.forEach((x, k) => {
      expect(tridiagonalResidual(rhs[k]!, x)).toBeLessThanOrEqual(1e-10);
      expect(results.rel_residuals[k]).toBeLessThanOrEqual(1e-10);
    });
    // Listed for its owner; DELETE of a finished job forgets it.
    const list = (await (await call(t.baseUrl, "/api/v1/jobs", A)).json()) as { jobs: Doc[] };
    expect(list.jobs.map((j) => j["job_id"])).toContain(id);
    const deleted = (await (await call(t.baseUrl, `/api/v1/jobs/${id}`, A, "DELETE")).json()) as Doc;
    expect(deleted).toMatchObject({ job_id: id, status: "done", cancelled: false, removed: true });
    await refused(await call(t.baseUrl, `/api/v1/jobs/${id}`, A), 404, "unknown_job");
  });

  it("random_rhs: seeded right-hand sides, the seed returned", async () => {
    const id = String(
      (await submitJob(t.baseUrl, tridiagonalJob(50, { random_rhs: 2, seed: 7 }), A))["job_id"],
    );
    await jobWhen(t.baseUrl, id, finished, A);
    const results = (await (await jobResults(t.baseUrl, id, A)).json()) as Doc;
    expect(results).toMatchObject({ status: "done", rhs_seed: 7, n: 50 });
    expect(results["x"]).toHaveLength(2);
    await call(t.baseUrl, `/api/v1/jobs/${id}`, A, "DELETE");
  });

  it("DELETE cancels a running job: 200 with the final status; its results are a 409", async () => {
    const id = String((await submitJob(t.baseUrl, slowJob(150), A))["job_id"]);
    await jobWhen(t.baseUrl, id, (s) => (s["units"] as Doc[])[0]?.["status"] === "running", A);
    await refused(await jobResults(t.baseUrl, id, A), 409, "not_finished");
    const res = await call(t.baseUrl, `/api/v1/jobs/${id}`, A, "DELETE");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      job_id: id,
      status: "cancelled",
      cancelled: true,
      removed: false,
    });
    expect((await jobStatus(t.baseUrl, id, A))["status"]).toBe("cancelled");
    await refused(await jobResults(t.baseUrl, id, A), 409, "job_cancelled");
    await call(t.baseUrl, `/api/v1/jobs/${id}`, A, "DELETE");
  });
});

describe("jobs and keys", () => {
  it("another key's job is a 404 for reading, results and DELETE; admin reads and cancels it", async () => {
    const id = String((await submitJob(t.baseUrl, slowJob(150), A))["job_id"]);
    for (const key of [BOB, READER]) {
      await refused(await call(t.baseUrl, `/api/v1/jobs/${id}`, bearer(key)), 404, "unknown_job");
      await refused(await jobResults(t.baseUrl, id, bearer(key)), 404, "unknown_job");
      const list = (await (await call(t.baseUrl, "/api/v1/jobs", bearer(key))).json()) as { jobs: Doc[] };
      expect(list.jobs.map((j) => j["job_id"])).not.toContain(id);
    }
    await refused(await call(t.baseUrl, `/api/v1/jobs/${id}`, bearer(BOB), "DELETE"), 404, "unknown_job");
    await refused(
      await post(t.baseUrl, "/api/v1/jobs", tridiagonalJob(3, { vector: [1, 2, 3] }), bearer(READER)),
      403,
      "insufficient_scope",
    );
    const all = (await (await call(t.baseUrl, "/api/v1/jobs", bearer(ADMIN))).json()) as { jobs: Doc[] };
    expect(all.jobs.map((j) => j["job_id"])).toContain(id);
    const res = await call(t.baseUrl, `/api/v1/jobs/${id}`, bearer(ADMIN), "DELETE");
    expect(await res.json()).toMatchObject({ job_id: id, status: "cancelled", cancelled: true });
    expect((await jobStatus(t.baseUrl, id, A))["status"]).toBe("cancelled");
    await call(t.baseUrl, `/api/v1/jobs/${id}`, A, "DELETE");
  });

  it("a WebSocket subscriber follows its job's job_update events to the end; another key's is unknown", async () => {
    const id = String(
      (await submitJob(t.baseUrl, tridiagonalJob(200, { rhs: rhsRows(200, 2) }), A))["job_id"],
    );
    const c = await connectWs(t.baseUrl, ALICE);
    c.ws.send(JSON.stringify({ type: "subscribe", id: "s1", job_id: id }));
    expect(await c.next((m) => m["type"] === "subscribed")).toMatchObject({ id: "s1", job_id: id });
    const ended = await c.next((m) => m["type"] === "ended");
    expect(ended).toEqual({ type: "ended", job_id: id, status: "done" });
    const updates = c.frames.filter((m) => m["type"] === "event").map((m) => m["event"] as Doc);
    // Each as documented (response-schemas.ts), strict.
    for (const update of updates) jobEventSchema.parse(update);
    // Replayed from the job's log or live: the last one is the done status, with every unit on the server.
    expect(updates.at(-1)).toMatchObject({
      type: "job_update",
      job_id: id,
      status: "done",
      progress: { done: 2, total: 2 },
    });
    const other = await connectWs(t.baseUrl, BOB);
    other.ws.send(JSON.stringify({ type: "subscribe", id: "s2", job_id: id }));
    expect(await other.next((m) => m["type"] === "error")).toMatchObject({
      id: "s2",
      error: { code: "unknown_job" },
    });
    other.ws.send(JSON.stringify({ type: "subscribe", id: "s3", job_id: id, session_id: "x" }));
    expect(await other.next((m) => m["type"] === "error")).toMatchObject({
      id: "s3",
      error: { code: "invalid_message" },
    });
    c.ws.close();
    other.ws.close();
    await call(t.baseUrl, `/api/v1/jobs/${id}`, A, "DELETE");
  });
});

describe("POST /api/v1/jobs: bad input, each a specific 4xx", () => {
  const bad = async (body: unknown, status: number, code: string): Promise<string> =>
    (await refused(await post(t.baseUrl, "/api/v1/jobs", body, A), status, code)).message;

  it("names what is wrong", async () => {
    expect(await bad({ kind: "factor", matrix: {} }, 400, "unknown_kind")).toContain("solve, classify, onnx");
    expect(await bad({ vector: [1] }, 400, "unknown_kind")).toContain("no kind");
    expect(
      await bad(
        tridiagonalJob(3, {
          rhs: [
            [1, 2, 3],
            [1, 2],
          ],
        }),
        400,
        "vector_length",
      ),
    ).toBe("rhs.1 has 2 entries but rows = 3");
    expect(await bad(tridiagonalJob(3, { rhs: rhsRows(3, 65) }), 400, "invalid_request")).toContain("rhs");
    expect(await bad({ kind: "solve", vector: [1, 2, 3] }, 400, "invalid_request")).toContain("matrix");
    // NaN as a string, in vector (solve_request's own check) or in rhs rows (the job's schema).
    expect(await bad(tridiagonalJob(3, { vector: [1, "NaN", 3] }), 400, "parse_error")).toContain(
      'vector[1] is "NaN"',
    );
    const nanRow = tridiagonalJob(3, {
      rhs: [
        [1, 2, 3],
        [1, "NaN", 3],
      ],
    });
    expect(await bad(nanRow, 400, "invalid_request")).toMatch(/^rhs\.1\.1: /);
    expect(
      await bad(tridiagonalJob(3, { rhs: [[1, 2, 3]], vector: [1, 2, 3] }), 400, "invalid_request"),
    ).toContain("exactly one of vector, rhs or random_rhs");
    expect(
      await bad(tridiagonalJob(3, { rhs: rhsRows(3, 2), distribute: 2 }), 400, "invalid_request"),
    ).toContain("distributed solve takes one right-hand side");
    expect(await bad(tridiagonalJob(3, { vector: [1, 2] }), 400, "vector_length")).toContain("rows = 3");
    // A number too large for a double (JSON's 1e999) is Infinity, refused by name.
    const infinite = JSON.stringify(tridiagonalJob(3, { vector: [1, 2, 3] })).replace(
      "[1,2,3]",
      "[1,1e999,3]",
    );
    expect(await bad(infinite, 400, "non_finite")).toContain("vector");
    await bad("{not json", 400, "malformed_json");
  });

  it("classify and onnx without experts: 501 not_available saying why", async () => {
    const image = Array.from({ length: 784 }, () => 0.5);
    expect(await bad({ kind: "classify", images: [image] }, 501, "not_available")).toContain("no experts");
    expect(await bad({ kind: "onnx", model: "AAAA", input: [[1]], cols: 1 }, 501, "not_available")).toContain(
      "onnx",
    );
  });
});
