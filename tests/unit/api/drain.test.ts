import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import {
  call,
  ndjsonLines,
  post,
  refused,
  slowRequest,
  startApiServer,
  tridiagonalRequest,
  until,
} from "./helpers.ts";

// Graceful drain in-process (the SIGTERM path in a real child process is drain-process.test.ts): once
// draining, /ready is 503 and new sessions get 503 draining while a running stream goes on; the drain
// waits for it (here: until its owner cancels it, which forces the "finished within the grace" case
// without depending on how fast this machine solves) and ends well before the grace.
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({ drainMs: 60_000 });
});
afterAll(async () => {
  await t.close();
});

describe("drain", () => {
  it("refuses new work, lets a running stream end on its own, then resolves", async () => {
    const res = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150));
    const id = res.headers.get("x-session-id")!;
    const lines = ndjsonLines(res);
    expect((await lines.next()).value).toMatchObject({ type: "iteration_update", session_id: id });

    const startedAt = Date.now();
    let drained = false;
    const drain = t.server.drain().then(() => (drained = true));
    await until(async () => (await call(t.baseUrl, "/api/v1/ready")).status === 503);
    expect(await (await call(t.baseUrl, "/api/v1/ready")).json()).toEqual({
      ready: false,
      reason: "draining",
    });
    await refused(await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(5)), 503, "draining");
    // The running session is still served and still running: the drain waits for it.
    const status = (await (await call(t.baseUrl, `/api/v1/status/${id}`)).json()) as { state: string };
    expect(status.state).toBe("running");
    expect(drained).toBe(false);

    const cancel = await call(t.baseUrl, `/api/v1/sessions/${id}`, {}, "DELETE");
    expect(await cancel.json()).toMatchObject({ cancelled: true, state: "cancelled" });
    let last: Record<string, unknown> | undefined;
    for await (const line of lines) last = line;
    expect(last).toMatchObject({ type: "solve_result", session_id: id, reason: "cancelled" });
    await drain;
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    expect(t.logs.find((l) => l["event"] === "api_drained")).toMatchObject({
      finished: 1,
      endedByShutdown: 0,
    });
  });
});
