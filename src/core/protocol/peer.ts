import { z } from "zod";
import { PEER_ID_PATTERN } from "./ids.ts";
import { distShape } from "./distributed-frame.ts";
import { xpAttachmentBytes, xpShape } from "./experts.ts";
import { JOB_MESSAGE_SHAPES } from "./jobs.ts";

/**
 * The peer-to-peer channel: every message two peers exchange over their WebRTC data channel, as a JSON
 * header (plus, for `blob`, a binary attachment; see net/framing.ts). Parsed from `unknown` here; anything
 * that does not match is dropped and counted by the mesh, never thrown across the wire.
 *
 * Correlation: any message may carry `id`; a response carries `replyTo` = that id (see Mesh.request).
 */
export const PEER_PROTOCOL_VERSION = 1;

export const MAX_NOTE_CHARS = 16 * 1024;
/** A signed body is JSON text; results and receipts stay small (big data travels as blob attachments). */
export const MAX_SIGNED_BODY_CHARS = 256 * 1024;
export const MAX_BLOB_BYTES = 63 * 1024 * 1024;

const base64Url = (bytes: number) =>
  z
    .string()
    .length(Math.ceil((bytes * 4) / 3))
    .regex(/^[A-Za-z0-9_-]+$/);

export const peerIdSchema = z.string().regex(PEER_ID_PATTERN);
/** Raw 32-byte Ed25519 public key. */
export const publicKeySchema = base64Url(32);
/** 64-byte Ed25519 signature. */
export const signatureSchema = base64Url(64);
/** 32 random bytes. */
export const nonceSchema = base64Url(32);
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/);
export const messageIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const header = {
  v: z.literal(PEER_PROTOCOL_VERSION),
  id: messageIdSchema.optional(),
  replyTo: messageIdSchema.optional(),
};

/** First message on a channel, both ways: who I claim to be, and a fresh nonce for you to sign over. */
export const helloSchema = z.strictObject({
  ...header,
  type: z.literal("hello"),
  peerId: peerIdSchema,
  publicKey: publicKeySchema,
  nonce: nonceSchema,
});

/** Second message: my signature over the handshake transcript (both ids, both nonces, both DTLS fingerprints). */
export const helloProofSchema = z.strictObject({
  ...header,
  type: z.literal("hello-proof"),
  signature: signatureSchema,
});

export const pingSchema = z.strictObject({ ...header, type: z.literal("ping"), id: messageIdSchema });
export const pongSchema = z.strictObject({ ...header, type: z.literal("pong"), replyTo: messageIdSchema });

/**
 * A signed envelope. `body` is JSON text and the signature covers exactly that string (see
 * signed-envelope.ts), so it survives any re-serialisation of the envelope and can be stored and re-checked
 * later (results, receipts). `publicKey` makes it self-contained: `from` must be the id of that key.
 */
export const signedEnvelopeSchema = z.strictObject({
  ...header,
  type: z.literal("signed"),
  from: peerIdSchema,
  publicKey: publicKeySchema,
  body: z.string().min(2).max(MAX_SIGNED_BODY_CHARS),
  sig: signatureSchema,
});

/**
 * Small blobs may ride in the attachment of a signed message instead of travelling as `blob` messages of
 * their own (a work unit's right-hand side with its assignment, its solution with its result): one message
 * instead of three (blob, blob-ack, body), each of which costs both main threads a send or a receive.
 * `blobs` lists them in attachment order; the receiver hashes each against its `sha256` (after the
 * signature passed) and drops the whole message if one differs. No acknowledgement: the body's fate is theirs.
 */
export const MAX_ATTACHED_BLOBS = 16;
export const MAX_ATTACHED_BLOB_BYTES = 1024 * 1024;
export const attachedBlobSchema = z.strictObject({
  sha256: sha256HexSchema,
  byteLength: z.number().int().min(0).max(MAX_ATTACHED_BLOB_BYTES),
  label: z.string().max(128).optional(),
});

/** A signed envelope on the wire, with the blobs in its attachment (the envelope alone is what is signed). */
export const signedMessageSchema = z.strictObject({
  ...signedEnvelopeSchema.shape,
  blobs: z.array(attachedBlobSchema).min(1).max(MAX_ATTACHED_BLOBS).optional(),
});

/** A binary payload in the frame's attachment; the receiver checks its SHA-256 and answers `blob-ack`. */
export const blobSchema = z.strictObject({
  ...header,
  type: z.literal("blob"),
  id: messageIdSchema,
  sha256: sha256HexSchema,
  byteLength: z.number().int().min(0).max(MAX_BLOB_BYTES),
  /** What the payload is for (free text for tests today; later a content type). */
  label: z.string().max(128).optional(),
});

export const blobAckSchema = z.strictObject({
  ...header,
  type: z.literal("blob-ack"),
  replyTo: messageIdSchema,
  ok: z.boolean(),
  /** The digest the receiver computed (absent when it refused the blob before receiving it). */
  sha256: sha256HexSchema.optional(),
  /** Why a blob was not accepted: its hash differs, or it did not fit the receiver's memory budget. */
  reason: z.enum(["hash_mismatch", "over_budget"]).optional(),
});

/**
 * One distributed-solve message (protocol/distributed-frame.ts): typed arrays travel in the attachment. Unsigned on
 * purpose (per-iteration traffic): the channel is authenticated by the handshake; the result is certified.
 */
export const distSchema = z.strictObject({ ...header, ...distShape });

/**
 * One swarm mixture-of-experts message (protocol/experts.ts): float32 rows travel in the attachment, whose size
 * must be exactly the rows × cols the body announces. Unsigned for the same reason as `dist`: per-batch
 * traffic on the authenticated channel; the outputs are verified by the requester (canaries, replication).
 */
export const xpSchema = z.strictObject({ ...header, ...xpShape });

export const peerMessageSchema = z.discriminatedUnion("type", [
  distSchema,
  xpSchema,
  helloSchema,
  helloProofSchema,
  pingSchema,
  pongSchema,
  signedMessageSchema,
  blobSchema,
  blobAckSchema,
]);

export type Hello = z.infer<typeof helloSchema>;
export type HelloProof = z.infer<typeof helloProofSchema>;
export type SignedEnvelope = z.infer<typeof signedEnvelopeSchema>;
export type SignedMessage = z.infer<typeof signedMessageSchema>;
export type BlobMessage = z.infer<typeof blobSchema>;
export type PeerMessage = z.infer<typeof peerMessageSchema>;

/** The bodies a signed envelope may carry. Later issues add results and receipts to this union. */
const signedBodyHeader = {
  /** The intended recipient, or null for anyone: a body signed for A cannot be replayed to B as its own. */
  to: peerIdSchema.nullable(),
  atMs: z.number().int().nonnegative(),
  /** 16 random bytes: makes every body unique, so receivers can drop replays by (from, nonce). */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
};

export const noteBodySchema = z.strictObject({
  ...signedBodyHeader,
  type: z.literal("note"),
  text: z.string().max(MAX_NOTE_CHARS),
});

/** Work units (protocol/jobs.ts): requester → volunteer assign/cancel/verdict; volunteer → requester the rest. The
 *  receiver takes the volunteer's identity from the verified envelope's `from`, never from a body field. */
const jobBodySchemas = [
  z.strictObject({ ...signedBodyHeader, ...JOB_MESSAGE_SHAPES["unit-assign"] }),
  z.strictObject({ ...signedBodyHeader, ...JOB_MESSAGE_SHAPES["unit-cancel"] }),
  z.strictObject({ ...signedBodyHeader, ...JOB_MESSAGE_SHAPES["unit-heartbeat"] }),
  z.strictObject({ ...signedBodyHeader, ...JOB_MESSAGE_SHAPES["unit-progress"] }),
  z.strictObject({ ...signedBodyHeader, ...JOB_MESSAGE_SHAPES["unit-result"] }),
  z.strictObject({ ...signedBodyHeader, ...JOB_MESSAGE_SHAPES["unit-error"] }),
  z.strictObject({ ...signedBodyHeader, ...JOB_MESSAGE_SHAPES["unit-verdict"] }),
] as const;

export const signedBodySchema = z.discriminatedUnion("type", [noteBodySchema, ...jobBodySchemas]);

export type SignedBody = z.infer<typeof signedBodySchema>;
/** What a caller provides; the envelope code adds `to`, `atMs` and `nonce`. */
export type SignedBodyInput = SignedBody extends infer B
  ? B extends SignedBody
    ? Omit<B, "to" | "atMs" | "nonce">
    : never
  : never;

export type PeerParseErrorCode =
  | "not_an_object"
  | "bad_version"
  | "unknown_type"
  | "invalid_fields"
  | "unexpected_attachment"
  | "attachment_size_mismatch";

export type PeerParseResult =
  | { readonly ok: true; readonly message: PeerMessage; readonly attachment: Uint8Array }
  | { readonly ok: false; readonly code: PeerParseErrorCode; readonly detail: string };

const KNOWN_TYPES: ReadonlySet<string> = new Set(peerMessageSchema.options.map((o) => o.shape.type.value));

/** Parses a reassembled frame (header + attachment). `blob` carries an attachment of its byteLength,
 *  `signed` exactly the blobs it lists (none without `blobs`);
 *  `dist` may carry one (its typed arrays), bounded by MAX_BLOB_BYTES; `xp` exactly the bytes of the rows
 *  its body announces. */
export function parsePeerMessage(
  header: unknown,
  attachment: Uint8Array = new Uint8Array(0),
): PeerParseResult {
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    return { ok: false, code: "not_an_object", detail: "message header is not a JSON object" };
  }
  const record = header as Record<string, unknown>;
  if (record["v"] !== PEER_PROTOCOL_VERSION) {
    return { ok: false, code: "bad_version", detail: `unsupported protocol version ${String(record["v"])}` };
  }
  if (typeof record["type"] !== "string" || !KNOWN_TYPES.has(record["type"])) {
    return {
      ok: false,
      code: "unknown_type",
      detail: `unknown message type ${String(record["type"]).slice(0, 64)}`,
    };
  }
  const parsed = peerMessageSchema.safeParse(header);
  if (!parsed.success) {
    return { ok: false, code: "invalid_fields", detail: z.prettifyError(parsed.error).slice(0, 500) };
  }
  const message = parsed.data;
  if (message.type === "blob") {
    if (attachment.length !== message.byteLength) {
      return {
        ok: false,
        code: "attachment_size_mismatch",
        detail: `blob declares ${message.byteLength} bytes, attachment has ${attachment.length}`,
      };
    }
  } else if (message.type === "signed") {
    const declared = (message.blobs ?? []).reduce((sum, b) => sum + b.byteLength, 0);
    if (declared > MAX_ATTACHED_BLOB_BYTES || attachment.length !== declared) {
      return {
        ok: false,
        code: "attachment_size_mismatch",
        detail: `signed message declares ${declared} bytes of blobs (cap ${MAX_ATTACHED_BLOB_BYTES}), attachment has ${attachment.length}`,
      };
    }
  } else if (message.type === "dist") {
    if (attachment.length > MAX_BLOB_BYTES) {
      return {
        ok: false,
        code: "attachment_size_mismatch",
        detail: `dist attachment is ${attachment.length} bytes, cap ${MAX_BLOB_BYTES}`,
      };
    }
  } else if (message.type === "xp") {
    const expected = xpAttachmentBytes(message.body);
    if (attachment.length !== expected) {
      return {
        ok: false,
        code: "attachment_size_mismatch",
        detail: `xp ${message.body.kind} announces ${expected} bytes, attachment has ${attachment.length}`,
      };
    }
  } else if (attachment.length !== 0) {
    return { ok: false, code: "unexpected_attachment", detail: `${message.type} carries no attachment` };
  }
  return { ok: true, message, attachment };
}

export type SignedBodyParseResult =
  { readonly ok: true; readonly body: SignedBody } | { readonly ok: false; readonly detail: string };

/** Parses the JSON text of a signed body (after its signature was checked). */
export function parseSignedBody(text: string): SignedBodyParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, detail: "signed body is not JSON" };
  }
  const parsed = signedBodySchema.safeParse(json);
  if (!parsed.success) return { ok: false, detail: z.prettifyError(parsed.error).slice(0, 500) };
  return { ok: true, body: parsed.data };
}
