import { z } from "zod";
import { JobError } from "./job-errors.ts";
import { attemptSchema, unitIdSchema } from "./jobs.ts";

/**
 * Wire form of the distributed-solve messages (protocol/distributed.ts) on the peer channel: the message is
 * JSON with every typed array replaced by a reference {$ta, o, n} into one binary attachment (8-byte
 * aligned), so halo values and block data cross as raw f64/i32 bytes instead of JSON numbers. The receiver
 * rebuilds the object here and then parses it with the distributed zod schemas (that is where bad input
 * stops). These messages are not signed (one signature per halo would dominate an iteration): they ride
 * on the authenticated channel, whose handshake binds the DTLS fingerprints to the peer's key, and the
 * final x is certified by the requester anyway.
 *
 * `kind`: "init" carries BlockData (requester → volunteer), "to" a ToWorker, "from" a FromWorker,
 * "peers" a HaloPeers (requester → volunteer) and "halo" one HaloPart (holder → neighbouring holder;
 * protocol/distributed-peers.ts).
 */
export const DIST_WIRE_VERSION = 1;
export const MAX_DIST_ATTACHMENT_BYTES = 63 * 1024 * 1024;

export const distKindSchema = z.enum(["init", "to", "from", "peers", "halo"]);
export type DistKind = z.infer<typeof distKindSchema>;

/** The header fields a `dist` peer message carries besides the peer header (protocol/peer.ts). */
export const distShape = {
  type: z.literal("dist"),
  dv: z.literal(DIST_WIRE_VERSION),
  kind: distKindSchema,
  unitId: unitIdSchema,
  attempt: attemptSchema,
  /** The message with typed arrays replaced by attachment references (bounded by the framing's header cap). */
  payload: z.unknown(),
};

export interface DistEnvelope {
  readonly kind: DistKind;
  readonly unitId: string;
  readonly attempt: number;
  /** The decoded message (typed arrays restored), still to be parsed by the distributed schemas. */
  readonly message: unknown;
}

const refSchema = z.strictObject({
  $ta: z.enum(["f64", "i32"]),
  o: z.number().int().min(0).max(MAX_DIST_ATTACHMENT_BYTES),
  n: z.number().int().min(0).max(MAX_DIST_ATTACHMENT_BYTES),
});

const MAX_DEPTH = 8;

/** Replaces typed arrays by references; returns the JSON-able payload and the attachment bytes. */
export function encodeDistPayload(message: unknown): { payload: unknown; attachment: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new JobError("invalid_spec", "distributed message nested too deeply");
    if (value instanceof Float64Array || value instanceof Int32Array) {
      const pad = (8 - (offset % 8)) % 8;
      if (pad > 0) chunks.push(new Uint8Array(pad));
      offset += pad;
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      chunks.push(bytes);
      const ref = { $ta: value instanceof Float64Array ? "f64" : "i32", o: offset, n: value.length };
      offset += bytes.length;
      return ref;
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = walk(v, depth + 1);
      return out;
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new JobError("invalid_spec", "distributed message holds a non-finite number");
    }
    return value;
  };
  const payload = walk(message, 0);
  if (offset > MAX_DIST_ATTACHMENT_BYTES) {
    throw new JobError(
      "invalid_spec",
      `distributed message is ${offset} bytes, cap ${MAX_DIST_ATTACHMENT_BYTES}`,
    );
  }
  const attachment = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    attachment.set(c, at);
    at += c.length;
  }
  return { payload, attachment };
}

/** Restores typed arrays (copied, so they are aligned and own their memory); throws JobError on bad refs. */
export function decodeDistPayload(payload: unknown, attachment: Uint8Array): unknown {
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new JobError("invalid_message", "distributed message nested too deeply");
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (value !== null && typeof value === "object") {
      if ("$ta" in value) {
        const ref = refSchema.safeParse(value);
        if (!ref.success) throw new JobError("invalid_message", "bad typed-array reference");
        const { $ta, o, n } = ref.data;
        const width = $ta === "f64" ? 8 : 4;
        if (o % width !== 0 || o + n * width > attachment.length) {
          throw new JobError(
            "invalid_message",
            `typed-array reference [${o}, +${n}×${width}) is out of bounds`,
          );
        }
        const bytes = attachment.slice(o, o + n * width);
        return $ta === "f64" ? new Float64Array(bytes.buffer) : new Int32Array(bytes.buffer);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, depth + 1);
      return out;
    }
    return value;
  };
  return walk(payload, 0);
}
