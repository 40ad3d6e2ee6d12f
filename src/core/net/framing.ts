import { CodedError } from "../base/coded-error.ts";
/**
 * Chunked framing for the peer data channel. A message is a JSON header plus an optional binary attachment:
 *
 *   message = u32 headerByteLength | header (UTF-8 JSON) | attachment bytes
 *
 * cut into frames of at most 16 KiB (the largest size every browser's SCTP stack sends in one piece):
 *
 *   frame = "OS" | u8 version | u8 reserved (0) | u32 messageId | u32 index | u32 count | payload
 *
 * All integers are big-endian. Every frame but the last of a message carries exactly CHUNK_PAYLOAD_BYTES,
 * the last 1..CHUNK_PAYLOAD_BYTES, so a receiver can bound a message's size from its first frame. Frames are
 * untrusted: the Reassembler drops (and counts) anything malformed and never throws.
 */

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 16;
export const MAX_FRAME_BYTES = 16 * 1024;
export const CHUNK_PAYLOAD_BYTES = MAX_FRAME_BYTES - FRAME_HEADER_BYTES;
const MAGIC_0 = 0x4f; // "O"
const MAGIC_1 = 0x53; // "S"
const LENGTH_PREFIX_BYTES = 4;

export interface ReassemblyLimits {
  /** Largest message (length prefix + header + attachment) accepted, in bytes. */
  maxMessageBytes: number;
  /** Largest JSON header, in bytes: control messages are small, only attachments are big. */
  maxHeaderBytes: number;
  /** Messages being reassembled at once; frames starting more are dropped. */
  maxPartialMessages: number;
  /** Bytes held by all partial messages together. */
  maxBufferedBytes: number;
  /** A partial message that received no frame for this long is dropped. */
  partialTimeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: Readonly<ReassemblyLimits> = {
  maxMessageBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 1024 * 1024,
  maxPartialMessages: 16,
  maxBufferedBytes: 128 * 1024 * 1024,
  partialTimeoutMs: 30_000,
};

export type FrameDropReason =
  | "not_binary"
  | "too_short"
  | "too_long"
  | "bad_magic"
  | "bad_version"
  | "bad_index"
  | "bad_chunk_size"
  | "count_mismatch"
  | "duplicate_chunk"
  | "oversized"
  | "too_many_partials"
  | "buffer_full"
  | "timeout"
  | "bad_length_prefix"
  | "bad_header"
  | "over_budget"
  | "throttled";

/**
 * Who decides whether a new message may start (rate limits, the memory budget) and gets its bytes back.
 * `admit` is asked once per message, at its first frame, with the message's size (an upper bound for
 * multi-frame messages); a refusal drops that frame and quietly skips the message's other frames.
 * Bytes of a completed message stay reserved: the owner releases them once it has processed the message.
 */
export interface ReassemblyAccounting {
  admit(bytes: number): "over_budget" | "throttled" | null;
  release(bytes: number): void;
}

const NO_ACCOUNTING: ReassemblyAccounting = { admit: () => null, release: () => undefined };

export type PushResult =
  | {
      readonly kind: "message";
      readonly messageId: number;
      readonly header: unknown;
      readonly attachment: Uint8Array;
      /** Bytes reserved through ReassemblyAccounting for this message; the owner releases them. */
      readonly reservedBytes: number;
    }
  | { readonly kind: "partial" }
  /** A later frame of a message refused at its first frame: dropped without counting it again. */
  | { readonly kind: "skipped" }
  | {
      readonly kind: "dropped";
      readonly reason: FrameDropReason;
      /** For a refused first frame that holds the whole JSON header: the header (so a blob can be refused). */
      readonly header?: unknown;
    };

export interface ReassemblyStats {
  framesAccepted: number;
  messagesCompleted: number;
  bytesReceived: number;
  droppedTotal: number;
  dropped: Partial<Record<FrameDropReason, number>>;
}

export type FramingErrorCode = "unserializable_header" | "header_too_large" | "message_too_large";

export class FramingError extends CodedError<FramingErrorCode> {
  override readonly name = "FramingError";
}

export interface EncodedMessage {
  readonly messageId: number;
  readonly frameCount: number;
  /** Bytes of the message before framing (length prefix + header + attachment). */
  readonly messageBytes: number;
  /** Frames made lazily, one 16 KiB copy at a time, so a 64 MiB attachment is never duplicated whole. */
  frames(): Generator<Uint8Array<ArrayBuffer>>;
}

const EMPTY = new Uint8Array(0);

/** Numbers a sender's messages (u32, wrapping) and cuts them into frames. One per connection and direction. */
export class FrameEncoder {
  private nextMessageId = 1;

  constructor(
    private readonly limits: Pick<
      ReassemblyLimits,
      "maxMessageBytes" | "maxHeaderBytes"
    > = DEFAULT_REASSEMBLY_LIMITS,
  ) {}

  encode(header: unknown, attachment: Uint8Array = EMPTY): EncodedMessage {
    let json: string | undefined;
    try {
      json = JSON.stringify(header);
    } catch (error) {
      throw new FramingError("unserializable_header", `header is not JSON-serializable: ${String(error)}`);
    }
    if (json === undefined)
      throw new FramingError("unserializable_header", "header is not JSON-serializable");
    const headerBytes = new TextEncoder().encode(json);
    if (headerBytes.length > this.limits.maxHeaderBytes) {
      throw new FramingError(
        "header_too_large",
        `header is ${headerBytes.length} bytes, limit ${this.limits.maxHeaderBytes}`,
      );
    }
    const messageBytes = LENGTH_PREFIX_BYTES + headerBytes.length + attachment.length;
    if (messageBytes > this.limits.maxMessageBytes) {
      throw new FramingError(
        "message_too_large",
        `message is ${messageBytes} bytes, limit ${this.limits.maxMessageBytes}`,
      );
    }
    const messageId = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId + 1) >>> 0 || 1;
    const frameCount = Math.ceil(messageBytes / CHUNK_PAYLOAD_BYTES);
    const prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
    new DataView(prefix.buffer).setUint32(0, headerBytes.length);
    const parts = [prefix, headerBytes, attachment];
    return {
      messageId,
      frameCount,
      messageBytes,
      frames: () => generateFrames(messageId, frameCount, messageBytes, parts),
    };
  }
}

function* generateFrames(
  messageId: number,
  frameCount: number,
  messageBytes: number,
  parts: readonly Uint8Array[],
): Generator<Uint8Array<ArrayBuffer>> {
  let partIndex = 0;
  let partOffset = 0;
  for (let index = 0; index < frameCount; index++) {
    const payloadBytes = Math.min(CHUNK_PAYLOAD_BYTES, messageBytes - index * CHUNK_PAYLOAD_BYTES);
    const frame = new Uint8Array(FRAME_HEADER_BYTES + payloadBytes);
    writeFrameHeader(frame, messageId, index, frameCount);
    let written = 0;
    while (written < payloadBytes) {
      const part = parts[partIndex]!;
      const take = Math.min(part.length - partOffset, payloadBytes - written);
      frame.set(part.subarray(partOffset, partOffset + take), FRAME_HEADER_BYTES + written);
      written += take;
      partOffset += take;
      if (partOffset === part.length) {
        partIndex++;
        partOffset = 0;
      }
    }
    yield frame;
  }
}

function writeFrameHeader(frame: Uint8Array, messageId: number, index: number, count: number): void {
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  view.setUint8(0, MAGIC_0);
  view.setUint8(1, MAGIC_1);
  view.setUint8(2, FRAME_VERSION);
  view.setUint8(3, 0);
  view.setUint32(4, messageId);
  view.setUint32(8, index);
  view.setUint32(12, count);
}

/** Builds one raw frame; exported for tests that need to forge or reorder frames. */
export function buildFrame(
  messageId: number,
  index: number,
  count: number,
  payload: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(frame, messageId, index, count);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

interface PartialMessage {
  readonly count: number;
  readonly reserved: number;
  readonly chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  lastFrameAtMs: number;
}

function asBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/** Reassembles one sender's frames into messages, within limits; one per connection. */
export class Reassembler {
  readonly limits: Readonly<ReassemblyLimits>;
  readonly stats: ReassemblyStats = {
    framesAccepted: 0,
    messagesCompleted: 0,
    bytesReceived: 0,
    droppedTotal: 0,
    dropped: {},
  };
  private readonly partials = new Map<number, PartialMessage>();
  /** Messages refused at their first frame (id → when last seen), so their other frames are skipped. */
  private readonly refused = new Map<number, number>();
  private bufferedBytes = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(
    limits: Partial<ReassemblyLimits> = {},
    private readonly nowMs: () => number = () => Date.now(),
    private readonly accounting: ReassemblyAccounting = NO_ACCOUNTING,
  ) {
    this.limits = { ...DEFAULT_REASSEMBLY_LIMITS, ...limits };
  }

  get partialCount(): number {
    return this.partials.size;
  }

  get partialBytes(): number {
    return this.bufferedBytes;
  }

  push(data: unknown): PushResult {
    this.sweep();
    const frame = asBytes(data);
    if (!frame) return this.drop("not_binary");
    this.stats.bytesReceived += frame.length;
    if (frame.length <= FRAME_HEADER_BYTES) return this.drop("too_short");
    if (frame.length > MAX_FRAME_BYTES) return this.drop("too_long");
    const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
    if (view.getUint8(0) !== MAGIC_0 || view.getUint8(1) !== MAGIC_1) return this.drop("bad_magic");
    if (view.getUint8(2) !== FRAME_VERSION || view.getUint8(3) !== 0) return this.drop("bad_version");
    const messageId = view.getUint32(4);
    const index = view.getUint32(8);
    const count = view.getUint32(12);
    const payload = frame.subarray(FRAME_HEADER_BYTES);

    if (count === 0 || index >= count) return this.drop("bad_index");
    if (count > Math.ceil(this.limits.maxMessageBytes / CHUNK_PAYLOAD_BYTES)) return this.drop("oversized");
    const isLast = index === count - 1;
    if (!isLast && payload.length !== CHUNK_PAYLOAD_BYTES) return this.drop("bad_chunk_size");
    if ((count - 1) * CHUNK_PAYLOAD_BYTES + (isLast ? payload.length : 1) > this.limits.maxMessageBytes) {
      return this.drop("oversized");
    }

    if (this.refused.has(messageId)) {
      if (count === 1 || this.partials.has(messageId)) {
        this.refused.delete(messageId); // the sender's u32 ids wrapped around: a new message
      } else {
        this.refused.set(messageId, this.nowMs());
        return { kind: "skipped" };
      }
    }

    if (count === 1) {
      const refusal = this.accounting.admit(payload.length);
      if (refusal) return this.drop(refusal, index === 0 ? this.peekHeader(payload) : undefined);
      this.stats.framesAccepted++;
      return this.complete(messageId, payload, payload.length);
    }

    let partial = this.partials.get(messageId);
    if (!partial) {
      if (this.partials.size >= this.limits.maxPartialMessages) return this.drop("too_many_partials");
      const reserved = count * CHUNK_PAYLOAD_BYTES;
      const refusal = this.accounting.admit(reserved);
      if (refusal) {
        this.rememberRefused(messageId);
        return this.drop(refusal, index === 0 ? this.peekHeader(payload) : undefined);
      }
      partial = {
        count,
        reserved,
        chunks: new Array<Uint8Array | undefined>(count),
        received: 0,
        bytes: 0,
        lastFrameAtMs: 0,
      };
      this.partials.set(messageId, partial);
    } else if (partial.count !== count) {
      this.discard(messageId, partial);
      return this.drop("count_mismatch");
    }
    if (partial.chunks[index] !== undefined) return this.drop("duplicate_chunk");
    if (this.bufferedBytes + payload.length > this.limits.maxBufferedBytes) {
      this.discard(messageId, partial);
      return this.drop("buffer_full");
    }
    partial.chunks[index] = payload;
    partial.received++;
    partial.bytes += payload.length;
    partial.lastFrameAtMs = this.nowMs();
    this.bufferedBytes += payload.length;
    this.stats.framesAccepted++;
    if (partial.received < count) return { kind: "partial" };

    this.discard(messageId, partial, false);
    const whole = new Uint8Array(partial.bytes);
    let offset = 0;
    for (const chunk of partial.chunks) {
      whole.set(chunk!, offset);
      offset += chunk!.length;
    }
    return this.complete(messageId, whole, partial.reserved);
  }

  /**
   * Gives up the message a frame belongs to (the owner dropped that frame, e.g. over its byte rate): its
   * partial is discarded and its other frames skipped, instead of waiting out the timeout half-complete.
   */
  abandon(data: unknown): void {
    const frame = asBytes(data);
    if (!frame || frame.length < FRAME_HEADER_BYTES) return;
    const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
    const messageId = view.getUint32(4);
    const partial = this.partials.get(messageId);
    if (partial) this.discard(messageId, partial);
    if (view.getUint32(12) > 1) this.rememberRefused(messageId);
  }

  /** Drops partial messages that stalled; called on every push and periodically by the owner. */
  sweep(): void {
    const now = this.nowMs();
    for (const [messageId, partial] of this.partials) {
      if (now - partial.lastFrameAtMs >= this.limits.partialTimeoutMs) {
        this.discard(messageId, partial);
        this.drop("timeout");
      }
    }
    for (const [messageId, lastMs] of this.refused) {
      if (now - lastMs >= this.limits.partialTimeoutMs) this.refused.delete(messageId);
    }
  }

  /** Forgets every partial message (the connection closed) and returns their reservations. */
  clear(): void {
    for (const [messageId, partial] of [...this.partials]) this.discard(messageId, partial);
    this.partials.clear();
    this.refused.clear();
    this.bufferedBytes = 0;
  }

  private complete(messageId: number, message: Uint8Array, reservedBytes: number): PushResult {
    const parsed = this.parse(message);
    if (!parsed.ok) {
      this.accounting.release(reservedBytes);
      return this.drop(parsed.reason);
    }
    this.stats.messagesCompleted++;
    return {
      kind: "message",
      messageId,
      header: parsed.header,
      attachment: message.subarray(LENGTH_PREFIX_BYTES + parsed.headerBytes),
      reservedBytes,
    };
  }

  private parse(
    message: Uint8Array,
  ):
    | { ok: true; header: unknown; headerBytes: number }
    | { ok: false; reason: "bad_length_prefix" | "bad_header" } {
    if (message.length < LENGTH_PREFIX_BYTES) return { ok: false, reason: "bad_length_prefix" };
    const headerBytes = new DataView(message.buffer, message.byteOffset, LENGTH_PREFIX_BYTES).getUint32(0);
    if (headerBytes > this.limits.maxHeaderBytes || LENGTH_PREFIX_BYTES + headerBytes > message.length) {
      return { ok: false, reason: "bad_length_prefix" };
    }
    try {
      const text = this.decoder.decode(
        message.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + headerBytes),
      );
      return { ok: true, header: JSON.parse(text), headerBytes };
    } catch {
      return { ok: false, reason: "bad_header" };
    }
  }

  /** The header of a message from its first frame alone, when it fits there (blob offers do). */
  private peekHeader(firstPayload: Uint8Array): unknown {
    const parsed = this.parse(firstPayload);
    return parsed.ok ? parsed.header : undefined;
  }

  private rememberRefused(messageId: number): void {
    // Bounded: a sender has at most a few messages in flight; the oldest refusal is forgotten first.
    if (this.refused.size >= 4 * this.limits.maxPartialMessages) {
      this.refused.delete(this.refused.keys().next().value!);
    }
    this.refused.set(messageId, this.nowMs());
  }

  private discard(messageId: number, partial: PartialMessage, release = true): void {
    this.partials.delete(messageId);
    this.bufferedBytes -= partial.bytes;
    if (release) this.accounting.release(partial.reserved);
  }

  private drop(reason: FrameDropReason, header?: unknown): PushResult {
    this.stats.droppedTotal++;
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    return header === undefined ? { kind: "dropped", reason } : { kind: "dropped", reason, header };
  }
}
