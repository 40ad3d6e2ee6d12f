import { describe, expect, it } from "vitest";
import { decodeDistPayload, encodeDistPayload } from "../../../src/core/protocol/distributed-frame.ts";
import { parsePeerMessage } from "../../../src/core/protocol/peer.ts";
import { toWorkerSchema } from "../../../src/core/distributed/index.ts";

describe("distributed-solve wire form", () => {
  it("round-trips typed arrays through the attachment, aligned, and the result parses", () => {
    const message = {
      v: 1,
      type: "halo",
      epoch: 2,
      seq: 3,
      parts: [
        { fromBlock: 0, toBlock: 1, epoch: 2, seq: 3, values: new Float64Array([1.5, -2, 3e-300]) },
        { fromBlock: 2, toBlock: 1, epoch: 2, seq: 3, values: new Float64Array([]) },
      ],
    };
    const { payload, attachment } = encodeDistPayload(message);
    expect(attachment.byteLength).toBe(24);
    const back = decodeDistPayload(JSON.parse(JSON.stringify(payload)), attachment);
    const parsed = toWorkerSchema.parse(back);
    expect(parsed).toEqual(message);
    const mixed = encodeDistPayload({ a: new Int32Array([1, 2, 3]), b: new Float64Array([4]) });
    expect(mixed.attachment.byteLength).toBe(24); // 12 bytes of i32, padded to 16, then 8
    expect(decodeDistPayload(mixed.payload, mixed.attachment)).toEqual({
      a: new Int32Array([1, 2, 3]),
      b: new Float64Array([4]),
    });
  });

  it("rejects references outside the attachment and misaligned ones", () => {
    const bytes = new Uint8Array(16);
    expect(() => decodeDistPayload({ x: { $ta: "f64", o: 8, n: 2 } }, bytes)).toThrow(/out of bounds/);
    expect(() => decodeDistPayload({ x: { $ta: "f64", o: 4, n: 1 } }, bytes)).toThrow(/out of bounds/);
    expect(() => decodeDistPayload({ x: { $ta: "u8", o: 0, n: 1 } }, bytes)).toThrow(/reference/);
    expect(() => encodeDistPayload({ x: Number.NaN })).toThrow(/non-finite/);
  });

  it("is a peer message that may carry an attachment", () => {
    const header = {
      v: 1,
      type: "dist",
      dv: 1,
      kind: "to",
      unitId: "abc/1",
      attempt: 1,
      payload: { v: 1, type: "gather", epoch: 0 },
    };
    expect(parsePeerMessage(header, new Uint8Array(8)).ok).toBe(true);
    expect(parsePeerMessage({ ...header, kind: "other" }).ok).toBe(false);
    expect(parsePeerMessage({ ...header, unitId: "no slash" }).ok).toBe(false);
  });
});
