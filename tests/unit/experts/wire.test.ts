import { describe, expect, it } from "vitest";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import {
  decodeXp,
  encodeXp,
  MAX_XP_ROWS,
  MAX_XP_VALUES,
  type XpMessage,
} from "../../../src/core/protocol/experts.ts";
import { parsePeerMessage } from "../../../src/core/protocol/peer.ts";

const sha = "ab".repeat(32);
const wire = (message: XpMessage) => {
  const { body, attachment } = encodeXp(message);
  return {
    header: { v: 1, type: "xp", xv: 1, body: JSON.parse(JSON.stringify(body)) as unknown },
    attachment,
  };
};

describe("xp wire messages", () => {
  it("round-trips every kind through the peer protocol, rows as float32 bytes", () => {
    const data = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
    const messages: XpMessage[] = [
      {
        kind: "host-request",
        requestId: "h1",
        models: [
          { source: "manifest", sha256: sha, file: "expert-0-int8.onnx" },
          { source: "blob", sha256: "cd".repeat(32), bytes: 1234, label: "uploaded" },
        ],
      },
      {
        kind: "hosting",
        requestId: null,
        provider: "wasm",
        hosted: [sha],
        failed: [],
        paused: false,
        maxQueuedRequests: 16,
      },
      { kind: "infer-request", id: "r1", model: sha, rows: 2, cols: 3, data },
      { kind: "infer-result", id: "r1", rows: 3, cols: 2, ms: 1.5, data },
      { kind: "infer-error", id: "r1", code: "busy", message: "queue full" },
    ];
    for (const message of messages) {
      const { header, attachment } = wire(message);
      const parsed = parsePeerMessage(header, attachment);
      expect(parsed.ok, message.kind).toBe(true);
      if (!parsed.ok || parsed.message.type !== "xp") throw new Error("unreachable");
      const decoded = decodeXp(parsed.message.body, parsed.attachment);
      expect(decoded).toEqual({ ok: true, message });
    }
  });

  it("rejects an attachment whose size disagrees with rows × cols, at the peer protocol and in decodeXp", () => {
    const { header } = wire({
      kind: "infer-result",
      id: "r",
      rows: 2,
      cols: 10,
      ms: 1,
      data: new Float32Array(20),
    });
    for (const bytes of [0, 76, 84, 160]) {
      expect(parsePeerMessage(header, new Uint8Array(bytes))).toMatchObject({
        ok: false,
        code: "attachment_size_mismatch",
      });
      expect(decodeXp(header.body, new Uint8Array(bytes))).toMatchObject({
        ok: false,
        code: "attachment_size_mismatch",
      });
    }
    const hosting = wire({
      kind: "hosting",
      requestId: "h",
      provider: "cpu",
      hosted: [],
      failed: [],
      paused: true,
      maxQueuedRequests: 1,
    });
    expect(parsePeerMessage(hosting.header, new Uint8Array(4))).toMatchObject({
      ok: false,
      code: "attachment_size_mismatch",
    });
  });

  it("bounds rows, cols, ids, codes and text; refuses extra fields and non-finite rows", () => {
    const good = { kind: "infer-request", id: "r1", model: sha, rows: 1, cols: 4 };
    const bad: Record<string, unknown>[] = [
      { ...good, rows: 0 },
      { ...good, rows: MAX_XP_ROWS + 1 },
      { ...good, rows: 1.5 },
      { ...good, rows: 4096, cols: MAX_XP_VALUES / 4096 + 1 },
      { ...good, cols: -1 },
      { ...good, id: "x".repeat(65) },
      { ...good, id: "a b" },
      { ...good, model: "AB".repeat(32) },
      { ...good, extra: 1 },
      { ...good, kind: "infer-everything" },
      { kind: "infer-error", id: "r1", code: "on-fire", message: "" },
      { kind: "infer-error", id: "r1", code: "busy", message: "x".repeat(501) },
      {
        kind: "host-request",
        requestId: "h",
        models: [{ source: "manifest", sha256: sha, file: "../etc/passwd" }],
      },
      { kind: "host-request", requestId: "h", models: [{ source: "url", sha256: sha, url: "http://x" }] },
      {
        kind: "hosting",
        requestId: null,
        provider: "tpu",
        hosted: [],
        failed: [],
        paused: false,
        maxQueuedRequests: 1,
      },
    ];
    for (const body of bad) {
      const rows =
        typeof body["rows"] === "number" && typeof body["cols"] === "number"
          ? body["rows"] * body["cols"]
          : 0;
      const bytes = new Uint8Array(Number.isInteger(rows) && rows > 0 && rows < 1e7 ? rows * 4 : 0);
      expect(
        parsePeerMessage({ v: 1, type: "xp", xv: 1, body }, bytes).ok,
        JSON.stringify(body).slice(0, 80),
      ).toBe(false);
      expect(decodeXp(body, bytes).ok).toBe(false);
    }
    expect(parsePeerMessage({ v: 1, type: "xp", xv: 2, body: good }, new Uint8Array(16))).toMatchObject({
      ok: false,
      code: "invalid_fields",
    });
    const nan = new Float32Array([1, Number.NaN, 2, 3]);
    expect(decodeXp(good, new Uint8Array(nan.buffer))).toMatchObject({ ok: false, code: "non_finite" });
  });

  it("a malformed xp message over a link is dropped and reported, and the link keeps working", async () => {
    const hub = new MemoryExpertHub();
    const a = hub.link("a");
    const b = hub.link("b");
    const received: XpMessage[] = [];
    const rejected: string[] = [];
    b.onMessage((_from, m) => received.push(m));
    b.onRejected((from, code) => rejected.push(`${from}:${code}`));
    hub.sendRaw(
      "a",
      "b",
      { v: 1, type: "xp", xv: 1, body: { kind: "infer-request", id: "r", model: sha, rows: 2, cols: 2 } },
      new Uint8Array(8),
    );
    hub.sendRaw("a", "b", { v: 1, type: "xp", xv: 1, body: { kind: "nonsense" } });
    hub.sendRaw("a", "b", "not even an object");
    hub.sendRaw("a", "b", { v: 1, type: "ping", id: "p" });
    await a.send("b", { kind: "infer-error", id: "r", code: "paused", message: "" });
    await new Promise((r) => setTimeout(r, 10));
    expect(rejected).toEqual([
      "a:attachment_size_mismatch",
      "a:invalid_fields",
      "a:not_an_object",
      "a:not_xp",
    ]);
    expect(received).toEqual([{ kind: "infer-error", id: "r", code: "paused", message: "" }]);
    expect(hub.rejected).toBe(4);
  });
});
