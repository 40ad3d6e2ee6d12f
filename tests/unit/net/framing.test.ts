import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CHUNK_PAYLOAD_BYTES,
  FRAME_HEADER_BYTES,
  FrameEncoder,
  FramingError,
  MAX_FRAME_BYTES,
  Reassembler,
  buildFrame,
  type PushResult,
} from "../../../src/core/net/framing.ts";

function randomBytes(length: number, seed: number): Uint8Array {
  // xorshift: deterministic, fast for megabytes (crypto.getRandomValues caps at 64 KiB per call).
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function framesOf(header: unknown, attachment?: Uint8Array, encoder = new FrameEncoder()): Uint8Array[] {
  return [...encoder.encode(header, attachment).frames()];
}

function expectMessage(result: PushResult): Extract<PushResult, { kind: "message" }> {
  expect(result.kind).toBe("message");
  return result as Extract<PushResult, { kind: "message" }>;
}

describe("framing round trip", () => {
  it("reassembles header and attachment for sizes around chunk boundaries and a 5 MB payload", () => {
    const header = { v: 1, type: "blob", note: "héllo ✓" };
    const headerBytes = new TextEncoder().encode(JSON.stringify(header)).length;
    const firstChunkRoom = CHUNK_PAYLOAD_BYTES - 4 - headerBytes;
    const sizes = [
      0,
      1,
      firstChunkRoom - 1,
      firstChunkRoom,
      firstChunkRoom + 1,
      3 * CHUNK_PAYLOAD_BYTES,
      5_000_000,
    ];
    const encoder = new FrameEncoder();
    const reassembler = new Reassembler();
    for (const size of sizes) {
      const attachment = randomBytes(size, size + 7);
      const frames = framesOf(header, attachment, encoder);
      expect(frames.length).toBe(Math.ceil((4 + headerBytes + size) / CHUNK_PAYLOAD_BYTES));
      for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      const results = frames.map((f) => reassembler.push(f.buffer));
      for (const r of results.slice(0, -1)) expect(r.kind).toBe("partial");
      const message = expectMessage(results.at(-1)!);
      expect(message.header).toEqual(header);
      expect(message.attachment.length).toBe(size);
      expect(Buffer.from(message.attachment).equals(Buffer.from(attachment))).toBe(true);
    }
    expect(reassembler.stats.droppedTotal).toBe(0);
    expect(reassembler.partialCount).toBe(0);
    expect(reassembler.partialBytes).toBe(0);
  });

  it("round-trips random sizes (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer(), (size, seed) => {
        const attachment = randomBytes(size, seed);
        const reassembler = new Reassembler();
        let last: PushResult = { kind: "partial" };
        for (const frame of framesOf({ seed }, attachment)) last = reassembler.push(frame);
        const message = expectMessage(last);
        expect(message.header).toEqual({ seed });
        expect(Buffer.from(message.attachment).equals(Buffer.from(attachment))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("reassembles shuffled and interleaved frames of several messages", () => {
    const encoder = new FrameEncoder();
    const payloads = [randomBytes(100_000, 1), randomBytes(40_000, 2), randomBytes(10, 3)];
    const tagged = payloads.flatMap((p, i) => framesOf({ i }, p, encoder).map((frame) => ({ i, frame })));
    // Deterministic Fisher-Yates with a fixed LCG, so a failure reproduces.
    let s = 42;
    for (let k = tagged.length - 1; k > 0; k--) {
      s = (s * 1103515245 + 12345) >>> 0;
      const j = s % (k + 1);
      [tagged[k], tagged[j]] = [tagged[j]!, tagged[k]!];
    }
    const reassembler = new Reassembler();
    const done = new Map<number, Uint8Array>();
    for (const { frame } of tagged) {
      const r = reassembler.push(frame);
      if (r.kind === "message") done.set((r.header as { i: number }).i, r.attachment);
    }
    expect(done.size).toBe(3);
    payloads.forEach((p, i) => expect(Buffer.from(done.get(i)!).equals(Buffer.from(p))).toBe(true));
    expect(reassembler.stats.droppedTotal).toBe(0);
  });
});

describe("framing rejects bad frames and counts them", () => {
  const chunk = (n: number) => new Uint8Array(n).fill(7);

  it("drops non-binary, truncated, overlong and garbage frames", () => {
    const r = new Reassembler();
    expect(r.push("hello")).toEqual({ kind: "dropped", reason: "not_binary" });
    expect(r.push({ some: "object" })).toEqual({ kind: "dropped", reason: "not_binary" });
    expect(r.push(new Uint8Array(FRAME_HEADER_BYTES))).toEqual({ kind: "dropped", reason: "too_short" });
    expect(r.push(new Uint8Array(3))).toEqual({ kind: "dropped", reason: "too_short" });
    expect(r.push(buildFrame(1, 0, 1, chunk(CHUNK_PAYLOAD_BYTES + 1)))).toEqual({
      kind: "dropped",
      reason: "too_long",
    });
    expect(r.push(randomBytes(500, 99))).toEqual({ kind: "dropped", reason: "bad_magic" });
    const wrongVersion = buildFrame(1, 0, 1, chunk(10));
    wrongVersion[2] = 2;
    expect(r.push(wrongVersion)).toEqual({ kind: "dropped", reason: "bad_version" });
    expect(r.stats.droppedTotal).toBe(7);
    expect(r.stats.dropped).toEqual({
      not_binary: 2,
      too_short: 2,
      too_long: 1,
      bad_magic: 1,
      bad_version: 1,
    });
  });

  it("drops bad indexes, short middle chunks, duplicates and count mismatches", () => {
    const r = new Reassembler();
    expect(r.push(buildFrame(1, 0, 0, chunk(10)))).toEqual({ kind: "dropped", reason: "bad_index" });
    expect(r.push(buildFrame(1, 3, 3, chunk(10)))).toEqual({ kind: "dropped", reason: "bad_index" });
    expect(r.push(buildFrame(2, 0, 3, chunk(100)))).toEqual({ kind: "dropped", reason: "bad_chunk_size" });
    expect(r.push(buildFrame(3, 0, 3, chunk(CHUNK_PAYLOAD_BYTES))).kind).toBe("partial");
    expect(r.push(buildFrame(3, 0, 3, chunk(CHUNK_PAYLOAD_BYTES)))).toEqual({
      kind: "dropped",
      reason: "duplicate_chunk",
    });
    expect(r.push(buildFrame(3, 1, 4, chunk(CHUNK_PAYLOAD_BYTES)))).toEqual({
      kind: "dropped",
      reason: "count_mismatch",
    });
    // The count mismatch discarded message 3 entirely.
    expect(r.partialCount).toBe(0);
    expect(r.partialBytes).toBe(0);
  });

  it("drops messages over the size cap from their first frame", () => {
    const r = new Reassembler({ maxMessageBytes: 1024 * 1024 });
    const count = Math.ceil((1024 * 1024) / CHUNK_PAYLOAD_BYTES) + 1;
    expect(r.push(buildFrame(5, 0, count, chunk(CHUNK_PAYLOAD_BYTES)))).toEqual({
      kind: "dropped",
      reason: "oversized",
    });
    expect(r.push(buildFrame(6, 0, 0xffffffff, chunk(CHUNK_PAYLOAD_BYTES)))).toEqual({
      kind: "dropped",
      reason: "oversized",
    });
    expect(r.partialCount).toBe(0);
    expect(() =>
      new FrameEncoder({ maxMessageBytes: 1000, maxHeaderBytes: 100 }).encode({}, new Uint8Array(1000)),
    ).toThrow(FramingError);
  });

  it("caps partial messages in flight and buffered bytes", () => {
    const r = new Reassembler({ maxPartialMessages: 2, maxBufferedBytes: 3 * CHUNK_PAYLOAD_BYTES });
    expect(r.push(buildFrame(1, 0, 10, chunk(CHUNK_PAYLOAD_BYTES))).kind).toBe("partial");
    expect(r.push(buildFrame(2, 0, 10, chunk(CHUNK_PAYLOAD_BYTES))).kind).toBe("partial");
    expect(r.push(buildFrame(3, 0, 10, chunk(CHUNK_PAYLOAD_BYTES)))).toEqual({
      kind: "dropped",
      reason: "too_many_partials",
    });
    expect(r.push(buildFrame(1, 1, 10, chunk(CHUNK_PAYLOAD_BYTES))).kind).toBe("partial");
    expect(r.push(buildFrame(2, 1, 10, chunk(CHUNK_PAYLOAD_BYTES)))).toEqual({
      kind: "dropped",
      reason: "buffer_full",
    });
    expect(r.partialCount).toBe(1);
    expect(r.partialBytes).toBe(2 * CHUNK_PAYLOAD_BYTES);
  });

  it("drops partial messages that stall past the timeout", () => {
    let now = 0;
    const r = new Reassembler({ partialTimeoutMs: 1000 }, () => now);
    expect(r.push(buildFrame(1, 0, 2, chunk(CHUNK_PAYLOAD_BYTES))).kind).toBe("partial");
    now = 999;
    r.sweep();
    expect(r.partialCount).toBe(1);
    now = 2000;
    r.sweep();
    expect(r.partialCount).toBe(0);
    expect(r.stats.dropped.timeout).toBe(1);
    // The late last frame starts a new partial, which can never complete; it will time out too.
    expect(r.push(buildFrame(1, 1, 2, chunk(5))).kind).toBe("partial");
  });

  it("drops complete messages whose header is not JSON or whose length prefix lies", () => {
    const r = new Reassembler();
    const notJson = new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]);
    expect(r.push(buildFrame(1, 0, 1, notJson))).toEqual({ kind: "dropped", reason: "bad_header" });
    const badUtf8 = new Uint8Array([0, 0, 0, 2, 0xff, 0xfe]);
    expect(r.push(buildFrame(2, 0, 1, badUtf8))).toEqual({ kind: "dropped", reason: "bad_header" });
    const lies = new Uint8Array([0, 0, 1, 0, 0x7b, 0x7d]);
    expect(r.push(buildFrame(3, 0, 1, lies))).toEqual({ kind: "dropped", reason: "bad_length_prefix" });
    expect(r.push(buildFrame(4, 0, 1, new Uint8Array([0, 0])))).toEqual({
      kind: "dropped",
      reason: "bad_length_prefix",
    });
    expect(r.stats.messagesCompleted).toBe(0);
  });

  it("never throws on random bytes (property)", () => {
    const r = new Reassembler();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), fc.boolean(), (bytes, withHeader) => {
        const frame = withHeader ? buildFrame(bytes.length, 0, 1, bytes) : bytes;
        const result = r.push(frame);
        expect(["message", "partial", "dropped"]).toContain(result.kind);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses to encode headers that are not JSON", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(() => new FrameEncoder().encode(cyclic)).toThrow(/not JSON-serializable/);
    expect(() => new FrameEncoder().encode(undefined)).toThrow(FramingError);
    expect(() => new FrameEncoder().encode({ big: 1n })).toThrow(FramingError);
  });
});
