import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import {
  call,
  collectLines,
  ndjsonLines,
  post,
  refused,
  slowRequest,
  startApiServer,
  tridiagonalRequest,
} from "./helpers.ts";

// POST /verify judges its probes against a threshold it states (derived from the session's tolerance):
// a converged x passes, an early iterate of a slow solve fails, each verdict counted. GET x of a failed
// session is 409 session_failed with the failure, not not_finished.
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer();
});
afterAll(async () => {
  await t.close();
});

interface Verdict {
  passed: boolean;
  threshold: number;
  threshold_rule: string;
  estimated_relative_residual: number;
}

describe("verify verdict", () => {
  it("passes a converged x against 10 x its tolerance, and says so", async () => {
    const res = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      tridiagonalRequest(100, { options: { tolerance: 1e-9 } }),
    );
    await collectLines(res);
    const id = res.headers.get("x-session-id")!;
    const v = (await (
      await post(t.baseUrl, "/api/v1/verify", { session_id: id, probe_count: 100 })
    ).json()) as Verdict;
    expect(v).toMatchObject({ passed: true, threshold: 1e-8 });
    expect(v.threshold_rule).toContain("1e-9");
    expect(v.estimated_relative_residual).toBeLessThanOrEqual(v.threshold);
  });

  it("fails an iterate far from the tolerance, counted as a failed verification", async () => {
    const before = t.server.metrics().api.verificationsFailed;
    const controller = new AbortController();
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150), {}, controller.signal);
    const id = res.headers.get("x-session-id")!;
    const lines = ndjsonLines(res);
    // The first update comes with the first x; Jacobi from x = 0 on this system is nowhere near 1e-14 then.
    await lines.next();
    let v: Verdict | null = null;
    for (;;) {
      const r = await post(t.baseUrl, "/api/v1/verify", { session_id: id, probe_count: 50 });
      if (r.status === 200) {
        v = (await r.json()) as Verdict;
        break;
      }
      await refused(r, 409, "no_iterate_yet");
      await lines.next();
    }
    expect(v.passed).toBe(false);
    expect(v.estimated_relative_residual).toBeGreaterThan(v.threshold);
    expect(t.server.metrics().api.verificationsFailed).toBeGreaterThan(before);
    controller.abort();
  });

  it("answers x of a failed session with 409 session_failed naming the failure", async () => {
    const zeroDiagonal = {
      matrix: {
        rows: 2,
        cols: 2,
        format: "csr",
        data: { values: [0, 1, 1, 0], row_pointers: [0, 2, 4], col_indices: [0, 1, 0, 1] },
      },
      vector: [1, 2],
      method: "jacobi",
    };
    const res = await post(t.baseUrl, "/api/v1/solve-stream", zeroDiagonal);
    const lines = await collectLines(res);
    expect(lines.at(-1)).toMatchObject({ type: "solve_result", error: { code: "zero_diagonal" } });
    const error = await refused(
      await call(t.baseUrl, `/api/v1/sessions/${res.headers.get("x-session-id")}/x`),
      409,
      "session_failed",
    );
    expect(error.message).toContain("zero_diagonal");
  });
});
