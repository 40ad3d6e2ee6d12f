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
  until,
} from "./helpers.ts";

// Solves wait for a thread instead of being refused (api/solve-queue.ts): with one thread held by a solve
// that cannot finish, the next two requests queue (their streams open, nothing computed), the one after is
// 503 server_busy; when the thread frees up they run in order and converge; a queued client that leaves
// takes no thread at all.
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({ maxRunningSolves: 1, maxQueuedSolves: 2, maxStreamsPerAddress: 16 });
});
afterAll(async () => {
  await t.close();
});

const running = (): number => t.server.metrics().api.solvesRunning;

describe("the solve queue", () => {
  it("queues past the threads, refuses past the queue, and runs the queued in order once a thread frees", async () => {
    const holder = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150));
    const holderId = holder.headers.get("x-session-id")!;
    const holderLines = ndjsonLines(holder);
    await holderLines.next(); // it runs: the only thread is taken
    const queued = await Promise.all(
      [1, 2].map(() => post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(300))),
    );
    for (const res of queued) expect(res.status).toBe(200);
    expect(running()).toBe(1);
    await refused(await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(300)), 503, "server_busy");
    // Nothing of the queued ones ran yet: their status is at iteration 0.
    for (const res of queued) {
      const status = (await (
        await call(t.baseUrl, `/api/v1/status/${res.headers.get("x-session-id")!}`)
      ).json()) as {
        iteration: number;
        state: string;
      };
      expect(status).toMatchObject({ iteration: 0, state: "running" });
    }
    expect((await call(t.baseUrl, `/api/v1/sessions/${holderId}`, {}, "DELETE")).status).toBe(200);
    const results = await Promise.all(queued.map(async (res) => (await collectLines(res)).at(-1)));
    for (const r of results) expect(r).toMatchObject({ type: "solve_result", converged: true });
    await until(() => running() === 0);
  }, 60_000);

  it("a queued client that leaves is removed without taking a thread", async () => {
    const holder = await post(t.baseUrl, "/api/v1/solve-stream", slowRequest(150));
    const holderId = holder.headers.get("x-session-id")!;
    await ndjsonLines(holder).next();
    const controller = new AbortController();
    const leaver = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      tridiagonalRequest(300),
      {},
      controller.signal,
    );
    const leaverId = leaver.headers.get("x-session-id")!;
    const converged = t.server.metrics().api.sessionsConverged;
    controller.abort();
    await until(async () => (await call(t.baseUrl, `/api/v1/status/${leaverId}`)).status === 404);
    expect(running()).toBe(1);
    await call(t.baseUrl, `/api/v1/sessions/${holderId}`, {}, "DELETE");
    await until(() => running() === 0);
    // Had it run once the thread freed, it would have converged (a 300-row tridiagonal system).
    expect(t.server.metrics().api.sessionsConverged).toBe(converged);
  }, 60_000);
});
