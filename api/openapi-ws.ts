/**
 * /api/v1/ws in the OpenAPI document. OpenAPI 3.1 has no WebSocket object, so the endpoint is what it is
 * on the wire, a GET answered 101 Switching Protocols, and its messages are in an `x-websocket` extension
 * that points at two component schemas generated (z.toJSONSchema, as every other schema here) from the zod
 * schemas the server parses and types its frames with (ws-messages.ts): what the client may send, what the
 * server sends. Built apart from the route table, whose entries are HTTP routes the test walks in Express.
 */
import { jsonSchemaOf, type JsonSchema } from "./json-schema.ts";
import { WS_PATH } from "./ws.ts";
import {
  MAX_WS_MESSAGE_BYTES,
  MAX_WS_SUBSCRIPTIONS,
  wsClientMessageSchema,
  wsServerMessageSchema,
} from "./ws-messages.ts";

/** The path under /api/v1 (the document's server URL). */
export const WS_DOC_PATH = WS_PATH.replace(/^\/api\/v1/, "");

export const WS_COMPONENTS = { client: "WsClientMessage", server: "WsServerMessage" } as const;

export function wsComponentSchemas(): Record<string, JsonSchema> {
  return {
    [WS_COMPONENTS.client]: jsonSchemaOf(wsClientMessageSchema, "input"),
    [WS_COMPONENTS.server]: jsonSchemaOf(wsServerMessageSchema, "output"),
  };
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** The GET operation of /ws: the upgrade, who may open it, and its messages (x-websocket). */
export function wsOperation(): JsonSchema {
  return {
    operationId: "websocket",
    summary:
      "WebSocket: subscribe to sessions and receive the same events as their NDJSON/SSE streams, several sessions on one socket; unsubscribe; ping.",
    description: [
      "Open with a WebSocket client (GET with `Upgrade: websocket`), authenticated at the upgrade exactly as an HTTP call: `Authorization: Bearer KEY`, or no key from loopback while the server has none configured.",
      `Frames are JSON text, at most ${MAX_WS_MESSAGE_BYTES} bytes, at most 20 per second; the client sends ${WS_COMPONENTS.client} (subscribe needs the "read" scope and the caller's own session, or admin; at most ${MAX_WS_SUBSCRIPTIONS} per socket), the server sends ${WS_COMPONENTS.server}.`,
      "A refused message gets an `error` frame naming it (the socket stays open); unsubscribing or closing never stops a session.",
    ].join(" "),
    tags: ["solve"],
    security: [{ apiKey: [] }, {}],
    responses: {
      "101": { description: "Switching Protocols: the socket is open" },
      "401": {
        description: "missing_api_key, invalid_api_key",
        "x-error-codes": ["missing_api_key", "invalid_api_key"],
      },
      "403": { description: "api_keys_required", "x-error-codes": ["api_keys_required"] },
      "429": { description: "too many connections or upgrades from this address" },
    },
    "x-websocket": {
      subprotocol: null,
      client: ref(WS_COMPONENTS.client),
      server: ref(WS_COMPONENTS.server),
    },
  };
}
