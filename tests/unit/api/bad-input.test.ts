import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import { post, refused, startApiServer, tridiagonalRequest, until } from "./helpers.ts";

// The "Bad input" against the real server: each a specific 4xx {error: {code, message, path?}},
// counted in the server's metrics, and the server keeps answering (a good solve runs after all of them).
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({ maxBodyBytes: 64 * 1024, maxRows: 100_000 });
});
afterAll(async () => {
  await t.close();
});

const solveStream = (body: unknown): Promise<Response> => post(t.baseUrl, "/api/v1/solve-stream", body);

/** The seed's own example: rows 1000 with 3×3 arrays, "csr" with row_indices + col_pointers. */
const SEED_EXAMPLE = {
  matrix: {
    rows: 1000,
    cols: 1000,
    format: "csr",
    data: {
      values: [4, -1, -1, 4, -1, -1, 4],
      row_indices: [0, 1, 0, 1, 2, 1, 2],
      col_pointers: [0, 2, 5, 7],
    },
  },
  vector: [1, 2, 3],
  method: "jacobi",
  options: { tolerance: 1e-6, max_iterations: 1000 },
};

describe("bad input", () => {
  it("the seed's example gets 400 naming the index arrays csr expects and the size mismatches", async () => {
    const error = await refused(await solveStream(SEED_EXAMPLE), 400, "ambiguous_format");
    expect(error.message).toContain('format "csr" expects row_pointers + col_indices');
    expect(error.message).toContain("got col_pointers, row_indices");
    expect(error.message).toContain("matrix.data.col_pointers has 4 entries but cols = 1000 needs 1001");
    expect(error.message).toContain("vector has 3 entries but rows = 1000");
  });

  it("csr with row_pointers shorter than rows + 1 names both lengths", async () => {
    const body = tridiagonalRequest(3);
    (body["matrix"] as { rows: number; cols: number }).rows = 1000;
    (body["matrix"] as { rows: number; cols: number }).cols = 1000;
    const error = await refused(await solveStream(body), 400, "count_mismatch");
    expect(error.message).toContain("matrix.data.row_pointers has 4 entries; expected 1001 (rows + 1)");
    expect(error.path).toBe("matrix.data.row_pointers");
  });

  it("malformed JSON, a non-JSON body and a body over the limit", async () => {
    await refused(await solveStream('{"matrix": {'), 400, "malformed_json");
    const text = await fetch(`${t.baseUrl}/api/v1/solve-stream`, { method: "POST", body: "rows=3" });
    await refused(text, 415, "unsupported_media_type");
    const big = tridiagonalRequest(3, { padding: "x".repeat(70 * 1024) });
    await refused(await solveStream(big), 413, "body_too_large");
  });

  it("wrong types, unknown fields and out-of-range options name the path", async () => {
    expect(
      (
        await refused(
          await solveStream({ ...tridiagonalRequest(3), method: "magic" }),
          400,
          "invalid_request",
        )
      ).path,
    ).toBe("method");
    const tol = await refused(
      await solveStream(tridiagonalRequest(3, { options: { tolerance: "1e-8" } })),
      400,
      "invalid_request",
    );
    expect(tol.path).toBe("options.tolerance");
    const typo = await refused(
      await solveStream(tridiagonalRequest(3, { options: { tolerence: 1e-8 } })),
      400,
      "invalid_request",
    );
    expect(typo.message).toContain("tolerence");
    await refused(
      await solveStream(tridiagonalRequest(3, { options: { max_iterations: -5 } })),
      400,
      "invalid_request",
    );
  });

  it("NaN and Infinity, as strings or as numbers out of range", async () => {
    const asString = tridiagonalRequest(3, { vector: [1, "NaN", 3] });
    const e1 = await refused(await solveStream(asString), 400, "parse_error");
    expect(e1.message).toContain('vector[1] is "NaN"');
    expect(e1.path).toBe("vector");
    // 1e999 is valid JSON that parses to Infinity.
    const raw = JSON.stringify(tridiagonalRequest(3)).replace('"values":[4,', '"values":[1e999,');
    const e2 = await refused(await solveStream(raw), 400, "non_finite");
    expect(e2.path).toBe("matrix.data.values");
    const tol = JSON.stringify(tridiagonalRequest(3)).replace(
      '"method":"cg"',
      '"method":"cg","options":{"tolerance":1e999}',
    );
    expect((await refused(await solveStream(tol), 400, "invalid_request")).path).toBe("options.tolerance");
  });

  it("negative and huge sizes", async () => {
    const negative = tridiagonalRequest(3);
    (negative["matrix"] as { rows: number }).rows = -3;
    expect((await refused(await solveStream(negative), 400, "invalid_request")).path).toBe("matrix.rows");
    const huge = tridiagonalRequest(3);
    Object.assign(huge["matrix"] as object, { rows: 1e9, cols: 1e9 });
    await refused(await solveStream(huge), 413, "too_large");
  });

  it("a singular or non-square matrix is refused before the stream starts", async () => {
    const zeroRow = tridiagonalRequest(3);
    (zeroRow["matrix"] as { data: { values: number[] } }).data.values = [0, 0, -1, 4, -1, -1, 4];
    await refused(await solveStream(zeroRow), 400, "singular_matrix");
  });

  it("unknown sessions, verify without a session id, a bad Last-Event-ID", async () => {
    await refused(await fetch(`${t.baseUrl}/api/v1/status/nope`), 404, "unknown_session");
    await refused(await fetch(`${t.baseUrl}/api/v1/sessions/nope/x`), 404, "unknown_session");
    await refused(await fetch(`${t.baseUrl}/api/v1/sessions/nope/events`), 404, "unknown_session");
    await refused(await post(t.baseUrl, "/api/v1/verify", { session_id: "nope" }), 404, "unknown_session");
    await refused(await post(t.baseUrl, "/api/v1/verify", { probe_count: 5 }), 400, "invalid_request");
    await refused(
      await post(t.baseUrl, "/api/v1/verify", { session_id: "x", probe_count: 1e6 }),
      400,
      "invalid_request",
    );
  });

  it("counts every refusal and keeps serving", async () => {
    const rejected = t.server.metrics().rejected.http;
    for (const code of [
      "ambiguous_format",
      "malformed_json",
      "body_too_large",
      "unknown_session",
      "invalid_request",
    ]) {
      expect(rejected[`api_${code}`]).toBeGreaterThan(0);
    }
    const res = await solveStream(tridiagonalRequest(10));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"type":"solve_result"');
    expect(text).toContain('"converged":true');
  });
});

describe("limits", () => {
  it("per-address rate and concurrent streams get 429 with a specific code", async () => {
    const limited = await startApiServer({
      requestRatePerS: 0.001,
      requestBurst: 2,
      maxStreamsPerAddress: 1,
    });
    try {
      await refused(await fetch(`${limited.baseUrl}/api/v1/status/a`), 404, "unknown_session");
      await refused(await fetch(`${limited.baseUrl}/api/v1/status/b`), 404, "unknown_session");
      const third = await fetch(`${limited.baseUrl}/api/v1/status/c`);
      await refused(third, 429, "rate_limited");
      expect(third.headers.get("retry-after")).toBe("1");
      // health is not the API's: its own rules, never this rate limit.
      expect((await fetch(`${limited.baseUrl}/api/v1/health`)).status).toBe(200);
      expect(limited.server.metrics().rejected.http["api_rate_limited"]).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it("a finished session is removed after its TTL (status 404, counted as expired)", async () => {
    const short = await startApiServer({ sessionTtlMs: 100 });
    try {
      const res = await post(short.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(10));
      const id = res.headers.get("x-session-id")!;
      expect(await res.text()).toContain('"type":"solve_result"');
      await until(async () => (await fetch(`${short.baseUrl}/api/v1/status/${id}`)).status === 404);
      expect(short.server.metrics().api.sessionsExpired).toBe(1);
      expect(short.server.metrics().api.sessionsOpen).toBe(0);
    } finally {
      await short.close();
    }
  });
});
