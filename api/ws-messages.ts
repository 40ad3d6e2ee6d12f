import { z } from "zod";

/** Most sessions one WebSocket may follow at once. */
export const MAX_WS_SUBSCRIPTIONS = 16;
/** Largest client message (a subscribe is a few hundred bytes). */
export const MAX_WS_MESSAGE_BYTES = 4_096;

const requestId = z.string().min(1).max(64);
const sessionId = z.string().min(1).max(128);

/**
 * What a client sends on /api/v1/ws (JSON text frames). `id` is the client's, echoed in the answer.
 * subscribe: follow a session's events (after `last_event_id`, replayed from the session's log, as SSE's
 * Last-Event-ID); unsubscribe: stop; ping: pong.
 */
export const wsClientMessageSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("subscribe"),
      id: requestId,
      session_id: sessionId,
      last_event_id: z.number().int().nonnegative().optional(),
    })
    .strict(),
  z.object({ type: z.literal("unsubscribe"), id: requestId, session_id: sessionId }).strict(),
  z.object({ type: z.literal("ping"), id: requestId }).strict(),
]);
export type WsClientMessage = z.infer<typeof wsClientMessageSchema>;
