import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import {
  post,
  slowRequest,
  sseEvents,
  startApiServer,
  tridiagonalRequest,
  until,
  type SseEvent,
} from "./helpers.ts";

// SSE (Accept: text/event-stream): the same events with `id:` and `event:`, and a client that drops and
// reconnects with Last-Event-ID gets exactly the events it missed (a detached session keeps running).
let t: TestServer;

beforeAll(async () => {
  // A replay buffer no run of this test can overflow: the resume is checked event by event.
  t = await startApiServer({ replayEvents: 100_000, maxStreamsPerAddress: 2 });
});
afterAll(async () => {
  await t.close();
});

const SSE = { Accept: "text/event-stream" };

async function all(res: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const e of sseEvents(res)) events.push(e);
  return events;
}

describe("solve-stream as SSE", () => {
  it("resumes from Last-Event-ID with every missed event, in order, to the solve_result", async () => {
    const controller = new AbortController();
    const body = tridiagonalRequest(3_000, {
      method: "jacobi",
      options: { tolerance: 1e-12, detach: true, verification_interval: 5 },
    });
    const res = await post(t.baseUrl, "/api/v1/solve-stream", body, SSE, controller.signal);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const id = res.headers.get("x-session-id")!;
    const stream = sseEvents(res);
    const first = (await stream.next()).value as SseEvent;
    const second = (await stream.next()).value as SseEvent;
    expect([first.id, second.id]).toEqual([1, 2]);
    expect(first.event).toBe("iteration_update");
    expect(first.data["type"]).toBe("iteration_update");
    controller.abort();
    // Detached: the session runs on without its client and finishes.
    await until(async () => {
      const status = (await (await fetch(`${t.baseUrl}/api/v1/status/${id}`)).json()) as { state: string };
      return status.state !== "running";
    });
    const resumed = await fetch(`${t.baseUrl}/api/v1/sessions/${id}/events`, {
      headers: { ...SSE, "Last-Event-ID": "2" },
    });
    expect(resumed.status).toBe(200);
    const rest = await all(resumed);
    expect(rest.map((e) => e.id)).toEqual(rest.map((_, i) => 3 + i));
    expect(rest.at(-1)!.event).toBe("solve_result");
    expect(rest.at(-1)!.data).toMatchObject({ session_id: id, converged: true });
    expect(rest.some((e) => e.event === "verification_result")).toBe(true);
    const status = (await (await fetch(`${t.baseUrl}/api/v1/status/${id}`)).json()) as {
      last_event_id: number;
    };
    expect(status.last_event_id).toBe(rest.at(-1)!.id);
  });

  it("attaches a live watcher to a running session; concurrent streams per address are capped", async () => {
    const owner = new AbortController();
    const res = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      slowRequest(150, { detach: false }),
      SSE,
      owner.signal,
    );
    const id = res.headers.get("x-session-id")!;
    const ownerEvents = sseEvents(res);
    await ownerEvents.next();
    const watcher = new AbortController();
    const watch = await fetch(`${t.baseUrl}/api/v1/sessions/${id}/events`, {
      headers: SSE,
      signal: watcher.signal,
    });
    expect(watch.status).toBe(200);
    const watched = sseEvents(watch);
    const seen = (await watched.next()).value as SseEvent;
    expect(seen.data["session_id"]).toBe(id);
    // Two streams are open from this address, its cap: a third is refused.
    const third = await fetch(`${t.baseUrl}/api/v1/sessions/${id}/events`, { headers: SSE });
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe("too_many_streams");
    // A watcher leaving does not cancel; the owner leaving does (not detached), and the session is gone.
    watcher.abort();
    expect((await fetch(`${t.baseUrl}/api/v1/status/${id}`)).status).toBe(200);
    owner.abort();
    await until(async () => (await fetch(`${t.baseUrl}/api/v1/status/${id}`)).status === 404);
    await until(() => t.server.metrics().api.solvesRunning === 0);
  });

  it("refuses a Last-Event-ID whose events have left the buffer", async () => {
    const small = await startApiServer({ replayEvents: 2 });
    try {
      const done = await post(
        small.baseUrl,
        "/api/v1/solve-stream",
        tridiagonalRequest(500, {
          method: "jacobi",
          options: { tolerance: 1e-12, verification_interval: 1 },
        }),
      );
      const id = done.headers.get("x-session-id")!;
      const events = await all(
        await fetch(`${small.baseUrl}/api/v1/sessions/${id}/events`, { headers: SSE }),
      );
      await done.text();
      // Jacobi to 1e-12 at rate 1/2 takes ~40 iterations, one verification each: far more than 2 events.
      expect(events.map((e) => e.event).at(-1)).toBe("solve_result");
      const gone = await fetch(`${small.baseUrl}/api/v1/sessions/${id}/events`, {
        headers: { ...SSE, "Last-Event-ID": "1" },
      });
      expect(gone.status).toBe(410);
      expect(((await gone.json()) as { error: { code: string } }).error.code).toBe("replay_expired");
    } finally {
      await small.close();
    }
  });
});
