import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import { ndjsonLines, post, slowRequest, startApiServer, until } from "./helpers.ts";

// A client that does not read: the server must not buffer its events without bound. Forced by a stream
// far faster than the socket drains unread (an update every ms, each ~20 KB with 1000 entries of x_partial):
// the writer coalesces (one pending update per type) and says so in the metrics; the reader then gets the
// latest iterate, not a backlog, and the solve itself runs on.
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({ minUpdateMs: 1 });
});
afterAll(async () => {
  await t.close();
});

describe("backpressure", () => {
  it("coalesces updates for a reader that does not read, and the stream goes on when it does", async () => {
    const controller = new AbortController();
    const res = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      slowRequest(200, { x_partial_count: 1000 }),
      {},
      controller.signal,
    );
    expect(res.status).toBe(200);
    await until(() => t.server.metrics().api.updatesCoalesced > 0);
    const lines = ndjsonLines(res);
    let previous = -1;
    for (let i = 0; i < 50; i++) {
      const line = (await lines.next()).value as Record<string, unknown>;
      if (line["type"] !== "iteration_update") continue;
      expect(line["iteration"] as number).toBeGreaterThan(previous);
      previous = line["iteration"] as number;
    }
    expect(previous).toBeGreaterThan(0);
    controller.abort();
    await until(() => t.server.metrics().api.solvesRunning === 0);
  });
});
