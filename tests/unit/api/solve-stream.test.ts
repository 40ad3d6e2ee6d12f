import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import {
  collectLines as collect,
  ndjsonLines,
  post,
  slowRequest,
  startApiServer,
  tridiagonalRequest,
  until,
} from "./helpers.ts";

// POST /api/v1/solve-stream against the real server on a loopback port: the NDJSON events of a real solve
// in a solver thread (wasm kernels), verification probes recomputed from x, x inline or by URL, status and
// verify, and a client that disconnects mid-stream leaving no session behind.
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({ xInlineMax: 500 });
});
afterAll(async () => {
  await t.close();
});

describe("solve-stream (NDJSON)", () => {
  it("streams iteration updates, verification probes of the iterate and a certified solve_result", async () => {
    const n = 200;
    const res = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      tridiagonalRequest(n, {
        method: "jacobi",
        options: { tolerance: 1e-10, verification_interval: 10, probe_count: 5, x_partial_count: 3 },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = await collect(res);
    const sessionId = res.headers.get("x-session-id");
    const result = lines.at(-1)!;
    expect(result["type"]).toBe("solve_result");
    expect(result).toMatchObject({ session_id: sessionId, converged: true, where: "server" });
    expect(result["relative_residual"]).toBeLessThanOrEqual(1e-10);
    expect((result["certificate"] as { value: number }).value).toBe(result["relative_residual"]);
    expect((result["x"] as number[]).length).toBe(n);
    // The first verification is due at iteration 10, before Jacobi (rate 1/2) can reach 1e-10: always sent.
    const updates = lines.filter((l) => l["type"] === "iteration_update");
    const checks = lines.filter((l) => l["type"] === "verification_result");
    expect(updates.length).toBeGreaterThan(0);
    expect(checks.length).toBeGreaterThan(0);
    for (const u of updates) {
      expect(u).toMatchObject({ session_id: sessionId, where: "server" });
      expect((u["x_partial"] as number[]).length).toBe(3);
      expect(typeof u["residual_norm"]).toBe("number");
      expect(Date.parse(u["timestamp"] as string)).not.toBeNaN();
    }
    // Probes of an earlier iterate (their values are checked against x in the next test, via verify).
    const check = checks[0]!;
    expect(check["probe_count"]).toBe(5);
    expect((check["rows"] as number[]).length).toBe(5);
    expect(check["finite"]).toBe(true);
  });

  it("links to x above the inline size, and status and verify answer for the finished session", async () => {
    const n = 2_000;
    const res = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(n));
    const result = (await collect(res)).at(-1)!;
    expect(result["x"]).toBeUndefined();
    const id = result["session_id"] as string;
    expect(result["x_url"]).toBe(`/api/v1/sessions/${id}/x`);
    const x = (await (await fetch(`${t.baseUrl}${result["x_url"] as string}`)).json()) as { x: number[] };
    expect(x.x.length).toBe(n);
    const status = (await (await fetch(`${t.baseUrl}/api/v1/status/${id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({ session_id: id, state: "converged", n, where: "server" });
    // Verify probes x as the server holds it: every row when probe_count ≥ n would be exact; here 100 rows
    // of a converged x have residuals at the tolerance's scale (|b_i| ≤ 7, tol 1e-8 relative to ‖b‖).
    const verify = await post(t.baseUrl, "/api/v1/verify", { session_id: id, probe_count: 100 });
    expect(verify.status).toBe(200);
    const v = (await verify.json()) as { rows: number[]; residuals: number[]; max_abs_residual: number };
    expect(v.rows.length).toBe(100);
    expect(new Set(v.rows).size).toBe(100);
    expect(v.max_abs_residual).toBeLessThan(1e-5);
    // The residual of row i recomputed here from the served x matches what the server reported.
    const i = v.rows[0]!;
    const xi = (j: number): number => (j >= 0 && j < n ? x.x[j]! : 0);
    const bi = 1 + (i % 7);
    expect(v.residuals[0]).toBeCloseTo(bi - (4 * xi(i) - xi(i - 1) - xi(i + 1)), 12);
  });

  it("a client that disconnects mid-stream leaves no session behind (and no running solve)", async () => {
    const controller = new AbortController();
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150), {}, controller.signal);
    const id = res.headers.get("x-session-id")!;
    const lines = ndjsonLines(res);
    const first = await lines.next();
    expect((first.value as Record<string, unknown>)["type"]).toBe("iteration_update");
    expect((await fetch(`${t.baseUrl}/api/v1/status/${id}`)).status).toBe(200);
    controller.abort();
    await until(async () => (await fetch(`${t.baseUrl}/api/v1/status/${id}`)).status === 404);
    await until(() => t.server.metrics().api.solvesRunning === 0);
    expect(t.server.metrics().api.sessionsCancelled).toBeGreaterThanOrEqual(1);
  });
});
