import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseApiKeys } from "../../../api/keys.ts";
import { wsServerMessageSchema } from "../../../api/ws-messages.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { connectWs } from "./ws-client.ts";
import { bearer, collectLines, post, slowRequest, startApiServer, tridiagonalRequest } from "./helpers.ts";

// /api/v1/ws against the real server: a key follows its own running session and gets the same events as
// the stream (ending with solve_result), replays a finished one from last_event_id, pings; another key's
// session is unknown_session, a read-less key lacks the scope, a bad frame gets an error naming it and the
// socket stays open; no key at all is refused at the upgrade.
const ALICE = "alice-key-0123456789";
const BOB = "bob-key-012345678901";
const SUBMIT_ONLY = "submit-key-012345678";
let t: TestServer;

beforeAll(async () => {
  t = await startApiServer({
    keys: parseApiKeys([`${ALICE}:submit+read`, `${BOB}:submit+read`, `${SUBMIT_ONLY}:submit`]),
  });
});
afterAll(async () => {
  await t.close();
});

/** Every frame any socket of this file received: all must match the documented schema (last test). */
const everyFrame: Record<string, unknown>[] = [];

const connect = (key: string | null) => connectWs(t.baseUrl, key, (frame) => everyFrame.push(frame));

const ofType = (type: string) => (m: Record<string, unknown>) => m["type"] === type;

describe("/api/v1/ws", () => {
  it("follows a running session to its solve_result, replays a finished one, and pongs", async () => {
    const controller = new AbortController();
    const res = await post(
      t.baseUrl,
      "/api/v1/solve-stream",
      slowRequest(150),
      bearer(ALICE),
      controller.signal,
    );
    const id = res.headers.get("x-session-id")!;
    const c = await connect(ALICE);
    c.ws.send(JSON.stringify({ type: "subscribe", id: "s1", session_id: id }));
    expect(await c.next(ofType("subscribed"))).toMatchObject({ id: "s1", session_id: id, state: "running" });
    const update = await c.next(ofType("event"));
    expect(update).toMatchObject({ session_id: id, event: { type: "iteration_update", session_id: id } });
    c.ws.send(JSON.stringify({ type: "ping", id: "p" }));
    expect(await c.next(ofType("pong"))).toMatchObject({ id: "p" });
    // The starter leaves (no detach): the session is cancelled; the subscriber gets its end.
    controller.abort();
    const last = await c.next(
      (m) => m["type"] === "event" && (m["event"] as { type: string }).type === "solve_result",
    );
    expect(last["event"]).toMatchObject({ session_id: id, converged: false });
    expect(await c.next(ofType("ended"))).toMatchObject({ session_id: id });

    // A finished session is replayed from the start (last_event_id 0), through solve_result, then ended.
    const done = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(100), bearer(ALICE));
    const doneId = done.headers.get("x-session-id")!;
    const lines = await collectLines(done);
    c.ws.send(JSON.stringify({ type: "subscribe", id: "s2", session_id: doneId, last_event_id: 0 }));
    await c.next(ofType("subscribed"));
    const replayed: Record<string, unknown>[] = [];
    for (;;) {
      const m = await c.next(
        (f) => f["session_id"] === doneId && (f["type"] === "event" || f["type"] === "ended"),
      );
      if (m["type"] === "ended") break;
      replayed.push(m["event"] as Record<string, unknown>);
    }
    expect(replayed).toEqual(lines);
    c.ws.close();
  }, 60_000);

  it("keeps sessions to their owner and scope, answers bad frames with errors, and refuses no key", async () => {
    const res = await post(t.baseUrl, "/api/v1/solve-stream", tridiagonalRequest(100), bearer(ALICE));
    const id = res.headers.get("x-session-id")!;
    await collectLines(res);
    const bob = await connect(BOB);
    bob.ws.send(JSON.stringify({ type: "subscribe", id: "b1", session_id: id }));
    expect(await bob.next(ofType("error"))).toMatchObject({ id: "b1", error: { code: "unknown_session" } });
    bob.ws.send("not json");
    expect(await bob.next(ofType("error"))).toMatchObject({ error: { code: "malformed_json" } });
    bob.ws.send(JSON.stringify({ type: "subscribe", id: "b2" }));
    expect(await bob.next(ofType("error"))).toMatchObject({ id: "b2", error: { code: "invalid_message" } });
    bob.ws.send(JSON.stringify({ type: "unsubscribe", id: "b3", session_id: id }));
    expect(await bob.next(ofType("error"))).toMatchObject({ id: "b3", error: { code: "not_subscribed" } });
    bob.ws.send(JSON.stringify({ type: "ping", id: "still-open" }));
    expect(await bob.next(ofType("pong"))).toMatchObject({ id: "still-open" });
    bob.ws.close();

    const submitter = await connect(SUBMIT_ONLY);
    submitter.ws.send(JSON.stringify({ type: "subscribe", id: "x", session_id: id }));
    expect(await submitter.next(ofType("error"))).toMatchObject({ error: { code: "insufficient_scope" } });
    submitter.ws.close();

    await expect(connect(null)).rejects.toThrow(/401/);
    expect(t.server.metrics().rejected.upgrades["api_missing_api_key"]).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it("sent only frames its OpenAPI x-websocket schema describes (wsServerMessageSchema, strict)", () => {
    for (const frame of everyFrame)
      expect(() => wsServerMessageSchema.parse(frame), JSON.stringify(frame)).not.toThrow();
    const types = new Set(everyFrame.map((f) => f["type"]));
    for (const type of ["subscribed", "event", "ended", "pong", "error"]) expect(types).toContain(type);
  });
});
