import { z } from "zod";
import { JOB_STATUSES, jobEventSchema, SESSION_STATES, streamEventSchema } from "./response-schemas.ts";

/** Most sessions and jobs one WebSocket may follow at once. */
export const MAX_WS_SUBSCRIPTIONS = 16;
/** Largest client message (a subscribe is a few hundred bytes). */
export const MAX_WS_MESSAGE_BYTES = 4_096;

const requestId = z.string().min(1).max(64);
const sessionId = z.string().min(1).max(128);
/** A subscription names a session or a job, never both. */
const oneTarget = {
  check: (m: { session_id?: string | undefined; job_id?: string | undefined }) =>
    (m.session_id === undefined) !== (m.job_id === undefined),
  message: { message: "give exactly one of session_id or job_id", path: ["session_id"] },
};

/**
 * What a client sends on /api/v1/ws (JSON text frames). `id` is the client's, echoed in the answer.
 * subscribe: follow a session's events (after `last_event_id`, replayed from the session's log, as SSE's
 * Last-Event-ID), or a job's `job_update` events (`job_id`); unsubscribe: stop; ping: pong.
 */
export const wsClientMessageSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("subscribe"),
      id: requestId,
      session_id: sessionId.optional(),
      job_id: sessionId.optional(),
      last_event_id: z.number().int().nonnegative().optional(),
    })
    .strict()
    .refine(oneTarget.check, oneTarget.message),
  z
    .object({
      type: z.literal("unsubscribe"),
      id: requestId,
      session_id: sessionId.optional(),
      job_id: sessionId.optional(),
    })
    .strict()
    .refine(oneTarget.check, oneTarget.message),
  z.object({ type: z.literal("ping"), id: requestId }).strict(),
]);
export type WsClientMessage = z.infer<typeof wsClientMessageSchema>;

const state = z.enum(SESSION_STATES);
const jobStatus = z.enum(JOB_STATUSES);

/**
 * What the server sends on /api/v1/ws (JSON text frames): the answers to subscribe, unsubscribe and ping
 * (with the client's `id`), each followed session's events (the very events of the NDJSON/SSE streams,
 * with their ids for a later `last_event_id`; a job's `job_update` events), `ended` when a followed session or job ends, and `error` for a
 * refused message (the socket stays open). ws.ts sends nothing else; the OpenAPI document's `x-websocket`
 * is generated from this schema and the client one above.
 */
export const wsServerMessageSchema = z.union([
  z.strictObject({ type: z.literal("subscribed"), id: requestId, session_id: sessionId, state }),
  z.strictObject({ type: z.literal("subscribed"), id: requestId, job_id: sessionId, status: jobStatus }),
  z.strictObject({
    type: z.literal("event"),
    session_id: sessionId,
    event_id: z.number().int().nonnegative(),
    event: streamEventSchema,
  }),
  z.strictObject({
    type: z.literal("event"),
    job_id: sessionId,
    event_id: z.number().int().nonnegative(),
    event: jobEventSchema,
  }),
  z.strictObject({ type: z.literal("ended"), session_id: sessionId, state }),
  z.strictObject({ type: z.literal("ended"), job_id: sessionId, status: jobStatus }),
  z.strictObject({ type: z.literal("unsubscribed"), id: requestId, session_id: sessionId }),
  z.strictObject({ type: z.literal("unsubscribed"), id: requestId, job_id: sessionId }),
  z.strictObject({ type: z.literal("pong"), id: requestId }),
  z.strictObject({
    type: z.literal("error"),
    id: requestId.optional(),
    error: z.strictObject({ code: z.string(), message: z.string() }),
  }),
]);
export type WsServerMessage = z.input<typeof wsServerMessageSchema>;
