import { z } from "zod";
import { EXECUTION_PROVIDERS, manifestModelSchema } from "./manifest.ts";

/**
 * The swarm mixture-of-experts on the peer channel: one unsigned `xp` peer message (protocol/peer.ts) whose
 * JSON header carries `body` (one of the kinds below) and, for infer-request / infer-result, the rows as raw
 * little-endian float32 in the binary attachment (rows × cols × 4 bytes exactly; checked by parsePeerMessage
 * and again by decodeXp).
 *
 *   host-request   requester → volunteer: "host exactly these models for me" (declarative: a later request
 *                  replaces the set; an empty list releases them). Each model by sha256 plus either the file
 *                  name in the site's manifest, or "the bytes follow as a blob" (an uploaded model).
 *   hosting        volunteer → requester: what it now hosts and serves, what failed to load and why.
 *   infer-request  requester → host: run `model` on `rows` inputs of `cols` values. With `allOutputs`, the
 *                  result carries every output of the model (the generic job), else only the first (experts).
 *   infer-result   host → requester: the first output of the model, [rows, cols]; or, when the request asked
 *                  for all outputs, `outputs` names the blocks (name, cols) and the attachment holds them one
 *                  after the other, each [rows, block cols] row-major, `cols` being the sum of the blocks'.
 *   infer-error    host → requester: a specific code (model_missing, bad_input, busy, paused, ...).
 *   batch-verdict  requester → host: what its check of an infer-result concluded, accepted or rejected
 *                  (display only: the host's unit log; a host trusts nothing in it).
 *
 * Why unsigned is acceptable (same reasoning as protocol/distributed-frame.ts): these are per-batch messages (one
 * signature per 64 rows would cost more than the inference), they ride on the authenticated channel whose
 * handshake binds the DTLS fingerprints to the peer's Ed25519 key (so `from` is who we think), and a
 * signature would prove nothing about the numbers anyway: what makes a host's outputs acceptable is the
 * requester's verification (canary rows it computed itself, adaptive replication, its own computation as
 * arbiter; see router.ts and replication.ts), not who signed them.
 */
export const XP_WIRE_VERSION = 1;
/** Rows in one request or result (a batch plus its canaries). */
export const MAX_XP_ROWS = 4096;
/** Values (rows × cols) in one request or result: 16 MiB of float32. */
export const MAX_XP_VALUES = 4 * 1024 * 1024;
export const MAX_XP_COLS = 1 << 20;
export const MAX_XP_MODELS = 256;
export const MAX_XP_MESSAGE_CHARS = 500;
/** Output blocks in one infer-result (a model's outputs; more is refused rather than truncated). */
export const MAX_XP_OUTPUTS = 32;
export const MAX_XP_OUTPUT_NAME_CHARS = 128;
/** The label of a model sent as a blob (the mesh's blob event carries it). */
export const XP_MODEL_BLOB_LABEL = "xp-model";
export const MAX_XP_MODEL_BYTES = 256 * 1024 * 1024;

export const xpIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);
const rowsSchema = z.number().int().min(1).max(MAX_XP_ROWS);
const colsSchema = z.number().int().min(1).max(MAX_XP_COLS);

/** A model to host: from the site's manifest (the host fetches it and checks the digest) or sent as a blob. */
export const xpHostModelSchema = z.discriminatedUnion("source", [
  z.strictObject({
    source: z.literal("manifest"),
    sha256: sha256Schema,
    file: manifestModelSchema.shape.file,
  }),
  z.strictObject({
    source: z.literal("blob"),
    sha256: sha256Schema,
    bytes: z.number().int().positive().max(MAX_XP_MODEL_BYTES),
    label: z.string().min(1).max(128),
  }),
]);
export type XpHostModel = z.infer<typeof xpHostModelSchema>;

/** Why a host could not host a model: the runner's ExpertErrorCode, or one of the host's own. */
export const XP_LOAD_FAILURE_CODES = [
  "fetch_failed",
  "digest_mismatch",
  "corrupt_model",
  "bad_input",
  "model_missing",
  "runtime_failed",
  "timeout",
  "unavailable",
  "not_in_manifest",
  "blob_missing",
  "too_many_models",
  /** Refused before loading: the graph's inferred sizes are over the host's budget (or unbounded). */
  "model_over_budget",
] as const;
export type XpLoadFailureCode = (typeof XP_LOAD_FAILURE_CODES)[number];

/** Why a host did not answer an infer-request with a result. */
export const XP_INFER_ERROR_CODES = [
  "model_missing",
  "bad_input",
  "busy",
  "paused",
  "runtime_failed",
  "shutting_down",
  /** The run took longer than the host's limit: the host stopped it (and dropped the model). */
  "timeout",
] as const;
export type XpInferErrorCode = (typeof XP_INFER_ERROR_CODES)[number];

const messageText = z.string().max(MAX_XP_MESSAGE_CHARS);

export const xpHostRequestSchema = z.strictObject({
  kind: z.literal("host-request"),
  requestId: xpIdSchema,
  models: z.array(xpHostModelSchema).max(MAX_XP_MODELS),
});

export const xpHostingSchema = z.strictObject({
  kind: z.literal("hosting"),
  /** The host-request this answers; null for an unsolicited announcement (e.g. after pause/resume). */
  requestId: xpIdSchema.nullable(),
  provider: z.enum([...EXECUTION_PROVIDERS, "cpu"]),
  /** Digests loaded and served to this requester. */
  hosted: z.array(sha256Schema).max(MAX_XP_MODELS),
  failed: z
    .array(
      z.strictObject({ sha256: sha256Schema, code: z.enum(XP_LOAD_FAILURE_CODES), message: messageText }),
    )
    .max(MAX_XP_MODELS),
  paused: z.boolean(),
  /** The host's queue bound, so a requester can keep its in-flight requests below it. */
  maxQueuedRequests: z.number().int().min(1).max(65536),
});

const inferHead = {
  id: xpIdSchema,
  rows: rowsSchema,
  cols: colsSchema,
};

export const xpInferRequestSchema = z.strictObject({
  kind: z.literal("infer-request"),
  ...inferHead,
  model: sha256Schema,
  /** Answer with every output of the model (absent: the first output only, as experts need). */
  allOutputs: z.literal(true).optional(),
});

/** One output block of an all-outputs infer-result. */
export const xpOutputBlockSchema = z.strictObject({
  name: z.string().min(1).max(MAX_XP_OUTPUT_NAME_CHARS),
  cols: colsSchema,
});
export type XpOutputBlock = z.infer<typeof xpOutputBlockSchema>;

export const xpInferResultSchema = z.strictObject({
  kind: z.literal("infer-result"),
  ...inferHead,
  /** Time the host spent running the model (not queueing). */
  ms: z
    .number()
    .min(0)
    .max(24 * 3600 * 1000),
  /** Present when the request asked for all outputs: the blocks in attachment order (Σ cols = cols). */
  outputs: z
    .array(xpOutputBlockSchema)
    .min(1)
    .max(MAX_XP_OUTPUTS)
    .refine((blocks) => new Set(blocks.map((b) => b.name)).size === blocks.length, {
      message: "output names must be distinct",
    })
    .optional(),
});

export const xpInferErrorSchema = z.strictObject({
  kind: z.literal("infer-error"),
  id: xpIdSchema,
  code: z.enum(XP_INFER_ERROR_CODES),
  message: messageText,
});

/** What the router's check of a host's infer-result concluded: its rows kept ("accepted": canaries right,
 *  and a replica or the requester's own run agreed when one was made) or discarded ("rejected"). Display
 *  only for the host (its unit log); no text, so nothing a requester writes reaches the host's page. */
export const XP_BATCH_VERDICTS = ["accepted", "rejected"] as const;
export type XpBatchVerdictKind = (typeof XP_BATCH_VERDICTS)[number];

export const xpBatchVerdictSchema = z.strictObject({
  kind: z.literal("batch-verdict"),
  /** The infer-request's id. */
  id: xpIdSchema,
  verdict: z.enum(XP_BATCH_VERDICTS),
});

export const xpBodySchema = z
  .discriminatedUnion("kind", [
    xpHostRequestSchema,
    xpHostingSchema,
    xpInferRequestSchema,
    xpInferResultSchema,
    xpInferErrorSchema,
    xpBatchVerdictSchema,
  ])
  .refine((b) => !("rows" in b) || b.rows * b.cols <= MAX_XP_VALUES, {
    message: `rows × cols exceeds ${MAX_XP_VALUES} values`,
  })
  .refine(
    (b) => b.kind !== "infer-result" || !b.outputs || b.outputs.reduce((n, o) => n + o.cols, 0) === b.cols,
    {
      message: "the output blocks' widths must add up to cols",
    },
  );
export type XpBody = z.infer<typeof xpBodySchema>;

/** The header fields an `xp` peer message carries besides the peer header (protocol/peer.ts). */
export const xpShape = {
  type: z.literal("xp"),
  xv: z.literal(XP_WIRE_VERSION),
  body: xpBodySchema,
};

export type XpHostRequest = z.infer<typeof xpHostRequestSchema>;
export type XpHosting = z.infer<typeof xpHostingSchema>;
export type XpInferError = z.infer<typeof xpInferErrorSchema>;
export type XpBatchVerdict = z.infer<typeof xpBatchVerdictSchema>;
export type XpInferRequest = z.infer<typeof xpInferRequestSchema> & { readonly data: Float32Array };
export type XpInferResult = z.infer<typeof xpInferResultSchema> & { readonly data: Float32Array };
/** A decoded xp message: bodies with their rows restored as Float32Array. */
export type XpMessage =
  XpHostRequest | XpHosting | XpInferRequest | XpInferResult | XpInferError | XpBatchVerdict;

/** Bytes of attachment the body announces (0 for kinds without rows). */
export function xpAttachmentBytes(body: XpBody): number {
  return body.kind === "infer-request" || body.kind === "infer-result" ? body.rows * body.cols * 4 : 0;
}

export type XpDecodeErrorCode = "invalid_fields" | "attachment_size_mismatch" | "non_finite";
export type XpDecodeResult =
  | { readonly ok: true; readonly message: XpMessage }
  | { readonly ok: false; readonly code: XpDecodeErrorCode; readonly detail: string };

/** Header body and attachment for a message (the data's bytes are copied into a fresh attachment). */
export function encodeXp(message: XpMessage): { body: XpBody; attachment: Uint8Array } {
  if (message.kind === "infer-request" || message.kind === "infer-result") {
    const { data, ...body } = message;
    if (data.length !== body.rows * body.cols) {
      throw new RangeError(`${message.kind} has ${data.length} values for ${body.rows} × ${body.cols}`);
    }
    const attachment = new Uint8Array(data.byteLength);
    attachment.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { body, attachment };
  }
  return { body: message, attachment: new Uint8Array(0) };
}

/** Validates a header body (from the wire or a loopback) and restores the rows; never throws. The data is
 *  copied, so it is aligned and owns its memory. Non-finite values are refused: a model fed finite pixels
 *  has no business returning NaN, and letting one into a combine would poison a whole row. */
export function decodeXp(body: unknown, attachment: Uint8Array): XpDecodeResult {
  const parsed = xpBodySchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, code: "invalid_fields", detail: z.prettifyError(parsed.error).slice(0, 500) };
  }
  const b = parsed.data;
  const expected = xpAttachmentBytes(b);
  if (attachment.length !== expected) {
    return {
      ok: false,
      code: "attachment_size_mismatch",
      detail: `${b.kind} announces ${expected} bytes of rows, the attachment has ${attachment.length}`,
    };
  }
  if (b.kind !== "infer-request" && b.kind !== "infer-result") return { ok: true, message: b };
  const data = new Float32Array(attachment.slice().buffer);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      return { ok: false, code: "non_finite", detail: `${b.kind} value ${i} is ${data[i]}` };
    }
  }
  return { ok: true, message: { ...b, data } };
}

/** An all-outputs result's blocks by name, each [rows, cols] (views into `data`). */
export function splitXpOutputs(
  result: Pick<XpInferResult, "rows" | "cols" | "data" | "outputs">,
): Map<string, { data: Float32Array; cols: number }> {
  const blocks = result.outputs ?? [{ name: "", cols: result.cols }];
  const out = new Map<string, { data: Float32Array; cols: number }>();
  let at = 0;
  for (const b of blocks) {
    out.set(b.name, { data: result.data.subarray(at, at + result.rows * b.cols), cols: b.cols });
    at += result.rows * b.cols;
  }
  return out;
}

/** The attachment of an all-outputs result: each block [rows, cols] in `blocks` order, concatenated. */
export function joinXpOutputs(
  rows: number,
  blocks: readonly { readonly name: string; readonly data: Float32Array; readonly cols: number }[],
): { outputs: XpOutputBlock[]; cols: number; data: Float32Array } {
  const cols = blocks.reduce((n, b) => n + b.cols, 0);
  const data = new Float32Array(rows * cols);
  let at = 0;
  for (const b of blocks) {
    if (b.data.length !== rows * b.cols) {
      throw new RangeError(`output ${b.name} has ${b.data.length} values for ${rows} × ${b.cols}`);
    }
    data.set(b.data, at);
    at += b.data.length;
  }
  return { outputs: blocks.map((b) => ({ name: b.name, cols: b.cols })), cols, data };
}
