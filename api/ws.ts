import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { TokenBucket } from "../src/core/net/token-bucket.ts";
import type { ExtensionWebSocket, UpgradeRefusal } from "../signaling/config.ts";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { checkScope, identifyCaller, ownSession, type Caller } from "./access.ts";
import { ApiError } from "./errors.ts";
import type { SessionEvent } from "./event-log.ts";
import type { ApiKey } from "./keys.ts";
import type { SessionStore } from "./session-store.ts";
import type { EventLog } from "./event-log.ts";
import { ownJob } from "./jobs/job-access.ts";
import type { JobStore } from "./jobs/job-store.ts";
import {
  MAX_WS_MESSAGE_BYTES,
  MAX_WS_SUBSCRIPTIONS,
  wsClientMessageSchema,
  type WsClientMessage,
  type WsServerMessage,
} from "./ws-messages.ts";

export const WS_PATH = "/api/v1/ws";
/** Messages a client may send per second (burst twice that): subscribing is not a hot path. */
const MESSAGES_PER_S = 20;
/** Past this many bytes unsent to a slow client, progress events are skipped (counted); outcomes never. */
const MAX_BUFFERED_BYTES = 1 << 20;

export interface WsDeps {
  readonly keys: readonly ApiKey[];
  readonly trustProxy: boolean;
  readonly store: SessionStore;
  readonly jobs: JobStore;
  readonly metrics: ServerMetrics;
}

/** A frame other than an event (events are spliced from their serialised JSON). */
type Control = Exclude<WsServerMessage, { type: "event" }>;

/** What a socket follows: a session (`state`) or a job (`status`), by its id field. */
interface Followed {
  readonly field: "session_id" | "job_id";
  readonly id: string;
  readonly events: EventLog;
  readonly running: boolean;
  /** The frames that name it (with a session's `state` or a job's `status`, as their HTTP answers do). */
  readonly subscribed: (requestId: string) => Control;
  readonly ended: () => Control;
  listen(onEvent: (event: SessionEvent) => void, onEnd: () => void): () => void;
}

/** The session or job a subscribe names, if the caller may follow it (read scope, its own or admin). */
function followedOf(
  caller: Caller,
  deps: WsDeps,
  m: { session_id?: string | undefined; job_id?: string | undefined },
): Followed {
  const reader = checkScope(caller, "read");
  if (m.job_id !== undefined) {
    const job = ownJob(reader, deps.jobs, m.job_id);
    return {
      field: "job_id",
      id: job.id,
      events: job.events,
      running: !job.finished,
      subscribed: (id) => ({ type: "subscribed", id, job_id: job.id, status: job.status }),
      ended: () => ({ type: "ended", job_id: job.id, status: job.status }),
      listen: (onEvent, onEnd) => job.listen(onEvent, onEnd),
    };
  }
  const session = ownSession(reader, deps.store, m.session_id ?? "");
  return {
    field: "session_id",
    id: session.id,
    events: session.events,
    running: session.running,
    subscribed: (id) => ({ type: "subscribed", id, session_id: session.id, state: session.state }),
    ended: () => ({ type: "ended", session_id: session.id, state: session.state }),
    listen: (onEvent, onEnd) => session.listen(onEvent, onEnd),
  };
}

/**
 * /api/v1/ws: subscribe to sessions and receive the same events the NDJSON/SSE streams carry, or to jobs
 * and receive their job_update events (status, progress, where units ran), several on one socket. Authenticated at the upgrade exactly as an HTTP call (access.ts: a bearer key,
 * or loopback callers when no key is configured); following a session needs the `read` scope and the
 * session must be the caller's own (or any, for admin), else the same unknown_session as over HTTP. Every
 * client message is size-capped, rate-limited and schema-checked; a bad one gets an error frame naming
 * it and the socket stays open. Unsubscribing or closing never stops a session (only its starter does).
 */
export function apiWebSocket(deps: WsDeps): ExtensionWebSocket & { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  return {
    path: WS_PATH,
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): WebSocket | null | UpgradeRefusal {
      let caller: Caller;
      try {
        caller = identifyCaller(req, deps.keys, deps.trustProxy);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return { status: error.status, reason: `api_${error.code}`, message: error.message };
      }
      let opened: WebSocket | null = null;
      wss.handleUpgrade(req, socket, head, (ws) => {
        opened = ws;
        serve(ws, caller, deps);
      });
      return opened;
    },
    close() {
      for (const client of wss.clients) client.close(1001, "server closing");
      wss.close();
    },
  };
}

function serve(ws: WebSocket, caller: Caller, deps: WsDeps): void {
  const subscriptions = new Map<string, () => void>();
  const bucket = new TokenBucket(2 * MESSAGES_PER_S, MESSAGES_PER_S, () => performance.now());
  // Typed with the documented schema (ws-messages.ts): a frame the document does not describe won't compile.
  const send = (message: Control): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const refuse = (id: string | undefined, code: string, message: string): void => {
    deps.metrics.rejectHttp(`api_ws_${code}`);
    send({ type: "error", ...(id !== undefined ? { id } : {}), error: { code, message } });
  };
  const forward = (target: Followed, event: SessionEvent): void => {
    const progress =
      event.type === "iteration_update" ||
      event.type === "verification_result" ||
      (event.type === "job_update" && target.running);
    if (progress && ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      deps.metrics.api.updatesCoalesced++;
      return;
    }
    // The event's JSON was serialised once for every reader; it is spliced in, not parsed again.
    if (ws.readyState === ws.OPEN)
      ws.send(
        `{"type":"event","${target.field}":${JSON.stringify(target.id)},"event_id":${event.id},"event":${event.json}}`,
      );
  };

  const subscribe = (m: Extract<WsClientMessage, { type: "subscribe" }>): void => {
    const target = followedOf(caller, deps, m);
    const key = `${target.field}:${target.id}`;
    const what = target.field === "job_id" ? "job" : "session";
    if (subscriptions.has(key))
      throw new ApiError(409, "already_subscribed", `this socket already follows that ${what}`);
    if (subscriptions.size >= MAX_WS_SUBSCRIPTIONS) {
      throw new ApiError(
        429,
        "too_many_subscriptions",
        `at most ${MAX_WS_SUBSCRIPTIONS} sessions and jobs per socket`,
      );
    }
    const backlog = target.events.since(m.last_event_id ?? 0);
    if (backlog === null) {
      throw new ApiError(
        410,
        "replay_gone",
        `events after last_event_id have left the ${what}'s replay buffer`,
      );
    }
    send(target.subscribed(m.id));
    for (const event of backlog) forward(target, event);
    if (!target.running) {
      send(target.ended());
      return;
    }
    const stop = target.listen(
      (event) => forward(target, event),
      () => {
        subscriptions.delete(key);
        send(target.ended());
      },
    );
    subscriptions.set(key, stop);
  };

  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (!bucket.take()) return refuse(undefined, "rate_limited", `at most ${MESSAGES_PER_S} messages/s`);
    if (isBinary) return refuse(undefined, "binary_frame", "send JSON text frames");
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawText(data));
    } catch {
      return refuse(undefined, "malformed_json", "the frame is not JSON");
    }
    const result = wsClientMessageSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const id = (parsed as { id?: unknown } | null)?.id;
      return refuse(
        typeof id === "string" ? id.slice(0, 64) : undefined,
        "invalid_message",
        `${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`,
      );
    }
    const m = result.data;
    try {
      if (m.type === "ping") send({ type: "pong", id: m.id });
      else if (m.type === "subscribe") subscribe(m);
      else {
        const key = m.job_id !== undefined ? `job_id:${m.job_id}` : `session_id:${m.session_id ?? ""}`;
        const stop = subscriptions.get(key);
        const what = m.job_id !== undefined ? "job" : "session";
        if (stop === undefined)
          throw new ApiError(404, "not_subscribed", `this socket does not follow that ${what}`);
        stop();
        subscriptions.delete(key);
        send(
          m.job_id !== undefined
            ? { type: "unsubscribed", id: m.id, job_id: m.job_id }
            : { type: "unsubscribed", id: m.id, session_id: m.session_id ?? "" },
        );
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      refuse(m.id, error.code, error.message);
    }
  });
  ws.on("error", () => ws.terminate());
  ws.on("close", () => {
    for (const stop of subscriptions.values()) stop();
    subscriptions.clear();
  });
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}
