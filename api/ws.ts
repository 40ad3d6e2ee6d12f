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
  readonly metrics: ServerMetrics;
}

/**
 * /api/v1/ws: subscribe to sessions and receive the same events the NDJSON/SSE streams carry, several
 * sessions on one socket. Authenticated at the upgrade exactly as an HTTP call (access.ts: a bearer key,
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
  const send = (message: Exclude<WsServerMessage, { type: "event" }>): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const refuse = (id: string | undefined, code: string, message: string): void => {
    deps.metrics.rejectHttp(`api_ws_${code}`);
    send({ type: "error", ...(id !== undefined ? { id } : {}), error: { code, message } });
  };
  const forward = (sessionId: string, event: SessionEvent): void => {
    const progress = event.type === "iteration_update" || event.type === "verification_result";
    if (progress && ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      deps.metrics.api.updatesCoalesced++;
      return;
    }
    // The event's JSON was serialised once for every reader; it is spliced in, not parsed again.
    if (ws.readyState === ws.OPEN)
      ws.send(
        `{"type":"event","session_id":${JSON.stringify(sessionId)},"event_id":${event.id},"event":${event.json}}`,
      );
  };

  const subscribe = (m: Extract<WsClientMessage, { type: "subscribe" }>): void => {
    const session = ownSession(checkScope(caller, "read"), deps.store, m.session_id);
    if (subscriptions.has(session.id))
      throw new ApiError(409, "already_subscribed", "this socket already follows that session");
    if (subscriptions.size >= MAX_WS_SUBSCRIPTIONS) {
      throw new ApiError(
        429,
        "too_many_subscriptions",
        `at most ${MAX_WS_SUBSCRIPTIONS} sessions per socket`,
      );
    }
    const backlog = session.events.since(m.last_event_id ?? 0);
    if (backlog === null) {
      throw new ApiError(
        410,
        "replay_gone",
        "events after last_event_id have left the session's replay buffer",
      );
    }
    send({ type: "subscribed", id: m.id, session_id: session.id, state: session.state });
    for (const event of backlog) forward(session.id, event);
    if (!session.running) {
      send({ type: "ended", session_id: session.id, state: session.state });
      return;
    }
    const stop = session.listen(
      (event) => forward(session.id, event),
      () => {
        subscriptions.delete(session.id);
        send({ type: "ended", session_id: session.id, state: session.state });
      },
    );
    subscriptions.set(session.id, stop);
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
        const stop = subscriptions.get(m.session_id);
        if (stop === undefined)
          throw new ApiError(404, "not_subscribed", "this socket does not follow that session");
        stop();
        subscriptions.delete(m.session_id);
        send({ type: "unsubscribed", id: m.id, session_id: m.session_id });
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
