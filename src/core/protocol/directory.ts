import { z } from "zod";
import { capabilitiesSchema } from "./capabilities.ts";
import { PEER_ID_PATTERN } from "./ids.ts";
import { utf8 } from "../base/encoding.ts";
import { MAX_QUERY_K, peerFilterSchema, requestIdSchema, watchSchema } from "./directory-query.ts";

/**
 * The directory channel: a WebSocket at DIRECTORY_PATH where a peer proves it owns its key, learns who else
 * is online with what capabilities, and gets the session token that lets it register its id with PeerJS.
 *
 *   server -> challenge {nonce}
 *   client -> join {peerId, publicKey, capabilities, signature = Ed25519(JOIN_CONTEXT + nonce)}
 *   server -> welcome {sessionToken, self, peers, total}   (or error + close)
 *   server -> peers-changed {left, joined, updated, total}  (at most one per tick, to the peer's acquaintances)
 *   client -> update-capabilities (throttled), ping (server -> pong {total})
 *   client -> request-peers (server -> peers-sample {peers, total}; rate limited)
 *   client -> query {id, filter, k}   (server -> query-result {id, peers, matched, total}; rate limited)
 *   client -> subscribe {id, watch} / unsubscribe {id}
 *             (server -> subscribed {id, online}, then watch-changed {id, joined, left} at most once a tick)
 *
 * v2: a peer learns a bounded sample of who is online (`peers`, at most MAX_DIRECTORY_SAMPLE_PEERS), not
 * everyone, and `total` says how many others are online. Knowing is symmetric: if the server told A about
 * B it also told B about A, so whichever side dials finds the other expecting it. In a swarm smaller than
 * the sample everyone knows everyone, as in v1.
 *
 * Queries and subscriptions (directory-query.ts) let a peer find the volunteers it wants (and make them
 * acquainted with it, so links between them are admitted) instead of learning the whole swarm.
 *
 * Every frame is JSON with `v: 2` and a `type`. Both directions are parsed from `unknown` here; nothing
 * else in the code base looks at raw directory frames.
 */

export const DIRECTORY_PROTOCOL_VERSION = 2;
export const DIRECTORY_PATH = "/api/v1/directory";
/** Where the server mounts the PeerJS server, and its key (PeerJS client options `path` and `key`). */
export const PEERJS_MOUNT_PATH = "/peerjs";
export const PEERJS_KEY = "peerjs";
/** Domain separation: a join signature can never be mistaken for a signature made for anything else. */
export const JOIN_CONTEXT = "open-swarm-directory-v1:";
/** Largest client frame the server parses (a join with full capabilities is about 1 KB). */
export const MAX_DIRECTORY_CLIENT_FRAME_BYTES = 8 * 1024;
/** Most peers a server may hold (and a `peers-changed` list); servers cap their directory at or below this. */
export const MAX_DIRECTORY_PEERS = 10_000;
/** Most peers a `welcome` or `peers-sample` may list: its size is bounded at any swarm size. */
export const MAX_DIRECTORY_SAMPLE_PEERS = 256;

export const DIRECTORY_ERROR_CODES = [
  "malformed_json",
  "unknown_type",
  "invalid_message",
  "bad_signature",
  "id_mismatch",
  "too_large",
  "rate_limited",
  "not_joined",
  "already_joined",
  "join_timeout",
  "session_replaced",
  "server_full",
  "shutting_down",
  "invalid_query",
  "too_many_subscriptions",
  "unknown_subscription",
  /** The server's operator banned this peer id (admin API): refused at join, a live session is closed. */
  "banned",
] as const;
export type DirectoryErrorCode = (typeof DIRECTORY_ERROR_CODES)[number];

/**
 * WebSocket close codes the server uses; a client must not reconnect after `authFailed`, `banned` or
 * `replaced`.
 */
export const DIRECTORY_CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  tryAgainLater: 1013,
  tooManyInvalid: 4400,
  authFailed: 4401,
  banned: 4403,
  joinTimeout: 4408,
  replaced: 4409,
  tooSlow: 4429,
} as const;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const peerIdSchema = z.string().max(64).regex(PEER_ID_PATTERN);
/** Raw 32-byte Ed25519 public key, base64url without padding. */
const publicKeySchema = z.string().length(43).regex(BASE64URL);
/** 64-byte Ed25519 signature, base64url without padding. */
const signatureSchema = z.string().length(86).regex(BASE64URL);
const randomTokenSchema = z.string().min(16).max(128).regex(BASE64URL);
const v = z.literal(DIRECTORY_PROTOCOL_VERSION);

export const directoryPeerSchema = z.object({
  peerId: peerIdSchema,
  publicKey: publicKeySchema,
  capabilities: capabilitiesSchema,
  joinedAtMs: z.number().int().nonnegative(),
});
export type DirectoryPeer = z.infer<typeof directoryPeerSchema>;

// ---- client -> server -------------------------------------------------------------------------------

export const joinMessageSchema = z.object({
  v,
  type: z.literal("join"),
  peerId: peerIdSchema,
  publicKey: publicKeySchema,
  capabilities: capabilitiesSchema,
  signature: signatureSchema,
});
export const updateCapabilitiesMessageSchema = z.object({
  v,
  type: z.literal("update-capabilities"),
  capabilities: capabilitiesSchema,
});
export const pingMessageSchema = z.object({ v, type: z.literal("ping") });
/** Asks for more online peers than this session knows (answered with `peers-sample`, rate limited). */
export const requestPeersMessageSchema = z.object({ v, type: z.literal("request-peers") });

/** "k volunteers matching this filter": answered from the server's index with `query-result`. */
export const queryMessageSchema = z.object({
  v,
  type: z.literal("query"),
  id: requestIdSchema,
  filter: peerFilterSchema,
  k: z.number().int().min(1).max(MAX_QUERY_K),
});
/** Joins and leaves of a filter's peers or of given ids, from now on; `id` replaces a subscription of that id. */
export const subscribeMessageSchema = z.object({
  v,
  type: z.literal("subscribe"),
  id: requestIdSchema,
  watch: watchSchema,
});
export const unsubscribeMessageSchema = z.object({ v, type: z.literal("unsubscribe"), id: requestIdSchema });

export const directoryClientMessageSchema = z.discriminatedUnion("type", [
  joinMessageSchema,
  updateCapabilitiesMessageSchema,
  pingMessageSchema,
  requestPeersMessageSchema,
  queryMessageSchema,
  subscribeMessageSchema,
  unsubscribeMessageSchema,
]);
export type DirectoryClientMessage = z.infer<typeof directoryClientMessageSchema>;
export type DirectoryClientMessageType = DirectoryClientMessage["type"];
export const DIRECTORY_CLIENT_MESSAGE_TYPES: readonly DirectoryClientMessageType[] = [
  "join",
  "update-capabilities",
  "ping",
  "request-peers",
  "query",
  "subscribe",
  "unsubscribe",
];
/** Message types whose schema errors are answered with `invalid_query` (not fatal to the session). */
const QUERY_MESSAGE_TYPES: ReadonlySet<string> = new Set(["query", "subscribe", "unsubscribe"]);

// ---- server -> client -------------------------------------------------------------------------------

/** How many other peers are online, as the server counts them (a peer knows only a sample of them). */
const totalSchema = z.number().int().nonnegative().max(MAX_DIRECTORY_PEERS);
const samplePeersSchema = z.array(directoryPeerSchema).max(MAX_DIRECTORY_SAMPLE_PEERS);
const changedPeersSchema = z.array(directoryPeerSchema).max(MAX_DIRECTORY_PEERS);

export const directoryServerMessageSchema = z.discriminatedUnion("type", [
  z.object({ v, type: z.literal("challenge"), nonce: randomTokenSchema }),
  z.object({
    v,
    type: z.literal("welcome"),
    sessionToken: randomTokenSchema,
    self: directoryPeerSchema,
    peers: samplePeersSchema,
    total: totalSchema,
  }),
  /** Changes since the last frame, applied in this order: `left`, then `joined`, then `updated`. */
  z.object({
    v,
    type: z.literal("peers-changed"),
    left: z.array(peerIdSchema).max(MAX_DIRECTORY_PEERS),
    joined: changedPeersSchema,
    updated: changedPeersSchema,
    total: totalSchema,
  }),
  z.object({ v, type: z.literal("peers-sample"), peers: samplePeersSchema, total: totalSchema }),
  z.object({ v, type: z.literal("pong"), total: totalSchema }),
  /** `matched`: how many online peers match (self excluded); `peers`: a random k of them. */
  z.object({
    v,
    type: z.literal("query-result"),
    id: requestIdSchema,
    peers: z.array(directoryPeerSchema).max(MAX_QUERY_K),
    matched: totalSchema,
    total: totalSchema,
  }),
  /** A subscription is in place; `online`: up to MAX_QUERY_K of the peers it watches that are online now. */
  z.object({
    v,
    type: z.literal("subscribed"),
    id: requestIdSchema,
    online: z.array(directoryPeerSchema).max(MAX_QUERY_K),
  }),
  /** Watched peers that came online (or started matching) and went (or stopped matching) since the last one. */
  z.object({
    v,
    type: z.literal("watch-changed"),
    id: requestIdSchema,
    joined: changedPeersSchema,
    left: z.array(peerIdSchema).max(MAX_DIRECTORY_PEERS),
  }),
  z.object({
    v,
    type: z.literal("error"),
    code: z.enum(DIRECTORY_ERROR_CODES),
    message: z.string().max(500),
    /** The query or subscription the error is about, when it is about one. */
    id: requestIdSchema.optional(),
  }),
]);
export type DirectoryServerMessage = z.infer<typeof directoryServerMessageSchema>;

// ---- parsing ----------------------------------------------------------------------------------------

export type DirectoryDecodeResult<M> =
  | { readonly ok: true; readonly message: M }
  | {
      readonly ok: false;
      readonly code: DirectoryErrorCode;
      readonly detail: string;
      /** The query or subscription id, when the frame carried a well-formed one. */
      readonly id?: string;
    };

export function parseDirectoryClientMessage(raw: unknown): DirectoryClientMessage | null {
  const result = directoryClientMessageSchema.safeParse(raw);
  return result.success ? result.data : null;
}

export function parseDirectoryServerMessage(raw: unknown): DirectoryServerMessage | null {
  const result = directoryServerMessageSchema.safeParse(raw);
  return result.success ? result.data : null;
}

/**
 * Decodes one text frame from a client into a message or a specific error code, so the server can tell
 * the sender what was wrong. Never throws.
 */
export function decodeDirectoryClientFrame(text: string): DirectoryDecodeResult<DirectoryClientMessage> {
  // Characters never outnumber UTF-8 bytes, so this is a safe early cut; the server also checks bytes.
  if (text.length > MAX_DIRECTORY_CLIENT_FRAME_BYTES) {
    return {
      ok: false,
      code: "too_large",
      detail: `frame exceeds ${MAX_DIRECTORY_CLIENT_FRAME_BYTES} bytes`,
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: "malformed_json", detail: "frame is not valid JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, code: "invalid_message", detail: "frame must be a JSON object" };
  }
  const type: unknown = (raw as { type?: unknown }).type;
  if (typeof type !== "string") {
    return { ok: false, code: "invalid_message", detail: "missing string field 'type'" };
  }
  if (!(DIRECTORY_CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    return { ok: false, code: "unknown_type", detail: `unknown message type '${type.slice(0, 40)}'` };
  }
  const version: unknown = (raw as { v?: unknown }).v;
  if (version !== DIRECTORY_PROTOCOL_VERSION) {
    // Most likely a tab still running an older build: say so rather than "invalid literal".
    return {
      ok: false,
      code: "invalid_message",
      detail: `unsupported protocol version ${String(version).slice(0, 20)} (this server speaks ${DIRECTORY_PROTOCOL_VERSION}); reload the page`,
    };
  }
  const result = directoryClientMessageSchema.safeParse(raw);
  if (!result.success) {
    if (QUERY_MESSAGE_TYPES.has(type)) {
      // A bad query is the asker's mistake about a filter, not a broken client: say which field, keep the session.
      const id = requestIdSchema.safeParse((raw as { id?: unknown }).id);
      return {
        ok: false,
        code: "invalid_query",
        detail: describeIssue(result.error),
        ...(id.success ? { id: id.data } : {}),
      };
    }
    return { ok: false, code: "invalid_message", detail: describeIssue(result.error) };
  }
  return { ok: true, message: result.data };
}

/** The client side: a server frame or null (a client ignores what it cannot understand). Never throws. */
export function decodeDirectoryServerFrame(text: string): DirectoryServerMessage | null {
  try {
    return parseDirectoryServerMessage(JSON.parse(text));
  } catch {
    return null;
  }
}

/** The bytes a joining peer signs: the context string and the server's one-time nonce. */
export function joinChallengeBytes(nonce: string): Uint8Array {
  return utf8.encode(JOIN_CONTEXT + nonce);
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "message does not match the protocol";
  const path = issue.path.map(String).join(".") || "(root)";
  return `${path}: ${issue.message}`.slice(0, 200);
}
