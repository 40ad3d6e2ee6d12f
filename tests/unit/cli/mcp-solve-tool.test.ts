import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiCallError, ApiClient } from "../../../src/cli/mcp/api-client.ts";
import { runSolve, shrinkResult, type SolveProgress } from "../../../src/cli/mcp/solve-tool.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { startApiServer, tridiagonalRequest } from "../api/helpers.ts";

// The MCP solve tool's own logic, in-process against the real server: the progress throttle and where x
// goes. The throttle is checked against the time the call really took, so the assertion holds however
// fast or slow the machine runs the solve.
let t: TestServer;
let client: ApiClient;

beforeAll(async () => {
  // An update every ms from the solver thread: far more updates than any throttle lets through.
  t = await startApiServer({ minUpdateMs: 1 });
  client = new ApiClient(t.baseUrl, undefined);
});
afterAll(async () => {
  await t.close();
});

describe("the MCP solve tool", () => {
  it("sends at most one progress notification per interval, always increasing", async () => {
    const intervalMs = 50;
    const request = tridiagonalRequest(2000, {
      method: "jacobi",
      options: { tolerance: 1e-12, verification_interval: 5 },
    });
    const progress: { p: SolveProgress }[] = [];
    const started = performance.now();
    const result = await runSolve(
      client,
      request,
      { progressIntervalMs: intervalMs, xInlineMax: 10 },
      new AbortController().signal,
      async (p) => void progress.push({ p }),
    );
    const elapsed = performance.now() - started;
    expect(result["converged"]).toBe(true);
    expect(t.server.metrics().api.updatesStreamed).toBeGreaterThan(progress.length);
    expect(progress.length).toBeGreaterThan(0);
    // Sends are at least intervalMs apart, all within the call: a bound that holds for every schedule.
    expect(progress.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / intervalMs));
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.p.progress).toBeGreaterThan(progress[i - 1]!.p.progress);
    }
  });

  it("keeps x inline up to the limit and gives its absolute URL above it", () => {
    const base = { type: "solve_result", session_id: "s1", n: 3, converged: true };
    expect(shrinkResult(client, { ...base, x: [1, 2, 3] }, 3)).toEqual({
      session_id: "s1",
      n: 3,
      converged: true,
      x: [1, 2, 3],
    });
    const large = shrinkResult(client, { ...base, x: [1, 2, 3] }, 2);
    expect(large["x"]).toBeUndefined();
    expect(large["x_url"]).toBe(`${t.baseUrl}/api/v1/sessions/s1/x`);
    const linked = shrinkResult(client, { ...base, x_url: "/api/v1/sessions/s1/x" }, 2);
    expect(linked["x_url"]).toBe(`${t.baseUrl}/api/v1/sessions/s1/x`);
  });

  it("says server_unreachable when nothing answers, and refuses arguments that are not an object", async () => {
    const nowhere = new ApiClient("http://127.0.0.1:9", undefined);
    const signal = new AbortController().signal;
    await expect(
      runSolve(nowhere, {}, { progressIntervalMs: 1, xInlineMax: 1 }, signal, null),
    ).rejects.toMatchObject({
      code: "server_unreachable",
    });
    await expect(
      runSolve(client, [1], { progressIntervalMs: 1, xInlineMax: 1 }, signal, null),
    ).rejects.toBeInstanceOf(ApiCallError);
  });
});
