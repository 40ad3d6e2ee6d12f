import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseApiKeys } from "../../../api/keys.ts";
import type { TestServer } from "../signaling/helpers.ts";
import {
  bearer,
  call,
  collectLines,
  ndjsonLines,
  post,
  refused,
  slowRequest,
  KEYS,
  startApiServer,
  startKeyedApiServer,
  tridiagonalRequest,
  until,
} from "./helpers.ts";

// API keys and scopes against the real server on a loopback port (with keys configured, loopback callers
// need a key too): 401 without or with a wrong key, 403 naming the scope a key lacks, a key never sees
// another key's session (404, exactly like a missing one), admin sees and cancels any, and the per-key
// stream limit holds whatever address the key comes from.
const { ALICE, BOB, READER, ADMIN } = KEYS;

let t: TestServer;

beforeAll(async () => {
  t = await startKeyedApiServer({ maxStreamsPerKey: 1 });
});
afterAll(async () => {
  await t.close();
});

const rejected = (code: string): number => t.server.metrics().rejected.http[`api_${code}`] ?? 0;

/** Runs a small solve to its end as `key`; returns its session id. */
async function finishedSession(key: string): Promise<string> {
  const res = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(50), bearer(key));
  expect(res.status).toBe(200);
  const lines = await collectLines(res);
  expect(lines.at(-1)).toMatchObject({ type: "solve_result", converged: true });
  return res.headers.get("x-session-id")!;
}

describe("API keys", () => {
  it("refuses a missing or unknown key (401) and a key without the scope (403 naming it), counting each", async () => {
    await refused(
      await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(5)),
      401,
      "missing_api_key",
    );
    const wrong = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(5), bearer(`${ALICE}x`));
    expect(wrong.headers.get("www-authenticate")).toContain("Bearer");
    await refused(wrong, 401, "invalid_api_key");
    const scope = await refused(
      await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(5), bearer(READER)),
      403,
      "insufficient_scope",
    );
    expect(scope.message).toContain('"submit"');
    await refused(
      await post(t.baseUrl, "/api/v1/verify", { session_id: "x" }, bearer(READER)),
      403,
      "insufficient_scope",
    );
    expect(rejected("missing_api_key")).toBeGreaterThanOrEqual(1);
    expect(rejected("invalid_api_key")).toBeGreaterThanOrEqual(1);
    expect(rejected("insufficient_scope")).toBeGreaterThanOrEqual(2);
  });

  it("a key sees its own sessions; another key gets 404 for every route; admin sees all", async () => {
    const id = await finishedSession(ALICE);
    for (const key of [ALICE, ADMIN]) {
      expect((await call(t.baseUrl, `/api/v1/status/${id}`, bearer(key))).status).toBe(200);
      expect((await call(t.baseUrl, `/api/v1/sessions/${id}/x`, bearer(key))).status).toBe(200);
      expect((await call(t.baseUrl, `/api/v1/sessions/${id}/events`, bearer(key))).status).toBe(200);
      expect((await post(t.baseUrl, "/api/v1/verify", { session_id: id }, bearer(key))).status).toBe(200);
    }
    // Bob, and a read key, are told exactly what a session that never existed would tell them.
    const before = rejected("unknown_session");
    for (const key of [BOB, READER]) {
      await refused(await call(t.baseUrl, `/api/v1/status/${id}`, bearer(key)), 404, "unknown_session");
      await refused(await call(t.baseUrl, `/api/v1/sessions/${id}/x`, bearer(key)), 404, "unknown_session");
      await refused(
        await call(t.baseUrl, `/api/v1/sessions/${id}/events`, bearer(key)),
        404,
        "unknown_session",
      );
    }
    await refused(
      await post(t.baseUrl, "/api/v1/verify", { session_id: id }, bearer(BOB)),
      404,
      "unknown_session",
    );
    await refused(
      await call(t.baseUrl, `/api/v1/sessions/${id}`, bearer(BOB), "DELETE"),
      404,
      "unknown_session",
    );
    // A cost update to another key's session is the same 404; a read key lacks the scope to post one.
    const costs = { session_id: id, delta_costs: [{ index: 0, delta: 1 }] };
    await refused(await post(t.baseUrl, "/api/v1/swarm/costs", costs, bearer(BOB)), 404, "unknown_session");
    await refused(
      await post(t.baseUrl, "/api/v1/swarm/costs", costs, bearer(READER)),
      403,
      "insufficient_scope",
    );
    // The owner gets through to the session (finished, so the update is refused for that reason).
    await refused(
      await post(t.baseUrl, "/api/v1/swarm/costs", costs, bearer(ALICE)),
      409,
      "session_finished",
    );
    expect(rejected("unknown_session") - before).toBe(9);
    // The owner may forget its finished session; then it is gone for everyone.
    const removed = await call(t.baseUrl, `/api/v1/sessions/${id}`, bearer(ALICE), "DELETE");
    expect(await removed.json()).toMatchObject({ session_id: id, removed: true, cancelled: false });
    await refused(await call(t.baseUrl, `/api/v1/status/${id}`, bearer(ADMIN)), 404, "unknown_session");
  });

  it("admin cancels another key's running session; the per-key stream limit holds meanwhile", async () => {
    const res = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      slowRequest(150, { detach: true }),
      bearer(ALICE),
    );
    expect(res.status).toBe(200);
    const id = res.headers.get("x-session-id")!;
    const lines = ndjsonLines(res);
    expect((await lines.next()).value).toMatchObject({ type: "iteration_update", session_id: id });
    // Alice holds her one stream (maxStreamsPerKey: 1) from this address, which allows 4.
    await refused(
      await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(5), bearer(ALICE)),
      429,
      "too_many_key_streams",
    );
    await refused(
      await call(t.baseUrl, `/api/v1/sessions/${id}`, bearer(BOB), "DELETE"),
      404,
      "unknown_session",
    );
    const status = (await (await call(t.baseUrl, `/api/v1/status/${id}`, bearer(ALICE))).json()) as {
      state: string;
    };
    expect(status.state).toBe("running");
    const cancel = await call(t.baseUrl, `/api/v1/sessions/${id}`, bearer(ADMIN), "DELETE");
    expect(await cancel.json()).toMatchObject({ session_id: id, cancelled: true, state: "cancelled" });
    let last: Record<string, unknown> | undefined;
    for await (const line of lines) last = line;
    expect(last).toMatchObject({ type: "solve_result", session_id: id, converged: false });
    // Her stream slot is free again once the stream has ended.
    await until(async () => {
      const next = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(5), bearer(ALICE));
      await next.body?.cancel();
      return next.status === 200;
    });
  });
});

describe("per-key request rate", () => {
  it("holds a key to its own budget while another key from the same address goes on", async () => {
    const limited = await startApiServer({
      keys: parseApiKeys([`${ALICE}:read`, `${BOB}:read`]),
      keyRequestRatePerS: 0.001,
      keyRequestBurst: 3,
    });
    try {
      for (let i = 0; i < 3; i++) {
        await refused(
          await call(limited.baseUrl, "/api/v1/status/none", bearer(ALICE)),
          404,
          "unknown_session",
        );
      }
      await refused(
        await call(limited.baseUrl, "/api/v1/status/none", bearer(ALICE)),
        429,
        "key_rate_limited",
      );
      await refused(await call(limited.baseUrl, "/api/v1/status/none", bearer(BOB)), 404, "unknown_session");
      expect(limited.server.metrics().rejected.http["api_key_rate_limited"]).toBe(1);
    } finally {
      await limited.close();
    }
  });
});
