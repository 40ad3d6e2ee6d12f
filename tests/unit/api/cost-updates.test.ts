import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { ndjsonLines, post, slowRequest, startApiServer } from "./helpers.ts";

// POST /api/v1/swarm/costs against the real server: an update of b and of A reaches a running solve in its
// solver thread, is applied there with a warm restart, is announced on the stream, and the final
// certificate is the residual of the updated system. The solve is one that cannot converge (Jacobi to
// 1e-14 on a 150×150 Poisson grid) and is ended by the server's time limit, so the update always lands
// while it runs, however loaded the machine.
const SOLVE_MS = 5_000;
const K = 150;
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({ maxSolveMs: SOLVE_MS, xInlineMax: K * K });
});
afterAll(async () => {
  await t.close();
});

function residual(a: ReturnType<typeof poisson2d>, b: Float64Array, x: readonly number[]): number {
  let rr = 0;
  let bb = 0;
  for (let i = 0; i < a.rows; i++) {
    let ax = 0;
    for (let p = a.rowPtr[i]!; p < a.rowPtr[i + 1]!; p++) ax += a.values[p]! * x[a.colIdx[p]!]!;
    rr += (b[i]! - ax) ** 2;
    bb += b[i]! ** 2;
  }
  return Math.sqrt(rr / bb);
}

describe("cost updates into a running session", () => {
  it("applies delta_costs and matrix_updates with a warm restart; the certificate is for the updated system", async () => {
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(K, { x_partial_count: 0 }));
    expect(res.status).toBe(200);
    const id = res.headers.get("x-session-id")!;
    const lines = ndjsonLines(res);
    expect((await lines.next()).value).toMatchObject({ type: "iteration_update", session_id: id });

    const update = {
      session_id: id,
      delta_costs: [
        { index: 0, delta: 100 },
        { index: 777, delta: -50 },
      ],
      matrix_updates: [{ row: 5, col: 5, value: 1, mode: "add" }],
    };
    const accepted = await post(t.baseUrl, "/api/v1/swarm/costs", update);
    expect(accepted.status).toBe(202);
    const body = (await accepted.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ session_id: id, seq: 1, matrix_entries: 1, rhs_entries: 2 });

    const events: Record<string, unknown>[] = [];
    for await (const line of lines) events.push(line);
    const applied = events.find((e) => e["type"] === "update_applied");
    expect(applied).toMatchObject({ seq: 1, matrixEntries: 1, rhsEntries: 2, session_id: id });
    // A warm restart: the current x already nearly solves the updated system (cold would be 1).
    expect(applied!["residualAfter"]).toBeLessThan(1);
    const result = events.at(-1)!;
    expect(result).toMatchObject({ type: "solve_result", session_id: id, reason: "time_limit" });
    // Updates after the applied one belong to the new system, and iterations go on past it.
    expect(result["iterations"]).toBeGreaterThan(applied!["iteration"] as number);

    // The certificate is ‖b' − A' x‖/‖b'‖ of the UPDATED system, recomputed here from the returned x.
    const a = poisson2d(K);
    const b = new Float64Array(a.rows).fill(1);
    const x = result["x"] as number[];
    const oldResidual = residual(a, b, x);
    b[0]! += 100;
    b[777]! -= 50;
    const a2 = { ...a, values: a.values.slice() };
    for (let p = a2.rowPtr[5]!; p < a2.rowPtr[6]!; p++) if (a2.colIdx[p] === 5) a2.values[p]! += 1;
    const newResidual = residual(a2, b, x);
    expect(Math.abs(newResidual - (result["relative_residual"] as number))).toBeLessThan(
      1e-9 + 1e-6 * newResidual,
    );
    // And the solve really moved to the new system: x solves it better than the old one (b changed by
    // 100 and 50 where it was ≤ 7, so the old system's residual of x is large; how much smaller the new
    // one is depends on how many iterations the 5 s allowed on this machine, so no factor is asserted).
    expect(newResidual).toBeLessThan(oldResidual);
    // Updating a finished session is refused, with the reason.
    const late = await post(t.baseUrl, "/api/v1/swarm/costs", update);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: { code: "session_finished" } });
  }, 60_000);

  it("refuses bad updates with specific errors and leaves the session running", async () => {
    const controller = new AbortController();
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(K), {}, controller.signal);
    const id = res.headers.get("x-session-id")!;
    const refusal = async (body: unknown) => {
      const r = await post(t.baseUrl, "/api/v1/swarm/costs", body);
      return { status: r.status, error: ((await r.json()) as { error: Record<string, unknown> }).error };
    };
    expect(await refusal({ session_id: "nope", delta_costs: [{ index: 0, delta: 1 }] })).toMatchObject({
      status: 404,
    });
    expect(await refusal({ session_id: id })).toMatchObject({
      status: 400,
      error: { code: "invalid_request" },
    });
    expect(await refusal({ session_id: id, delta_costs: [{ index: K * K, delta: 1 }] })).toMatchObject({
      status: 400,
      error: { code: "index_out_of_range", path: "delta_costs.0.index" },
    });
    expect(
      await refusal({ session_id: id, matrix_updates: [{ row: 0, col: 0, value: "NaN" }] }),
    ).toMatchObject({ status: 400, error: { code: "invalid_request", path: "matrix_updates.0.value" } });
    expect(await refusal({ session_id: id, delta_costs: [{ index: -1, delta: 1 }] })).toMatchObject({
      status: 400,
    });
    expect(
      await refusal({ session_id: id, rhs_updates: [{ index: 0, value: 1, mode: "multiply" }] }),
    ).toMatchObject({ status: 400, error: { path: "rhs_updates.0.mode" } });
    const status = (await (await fetch(`${t.baseUrl}/api/v1/status/${id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(status["state"]).toBe("running");
    controller.abort();
  }, 30_000);
});
