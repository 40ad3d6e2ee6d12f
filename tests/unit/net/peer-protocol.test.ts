import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateKeyPair, identityFromKeyPair } from "../../../src/core/identity/identity.ts";
import { parsePeerMessage, parseSignedBody, MAX_NOTE_CHARS } from "../../../src/core/protocol/peer.ts";

const identity = await identityFromKeyPair(await generateKeyPair());
const nonce = "A".repeat(43);
const sig = "B".repeat(86);
const sha = "ab".repeat(32);

const good: Record<string, unknown> = {
  hello: { v: 1, type: "hello", peerId: identity.peerId, publicKey: identity.publicKey, nonce },
  helloProof: { v: 1, type: "hello-proof", signature: sig },
  ping: { v: 1, type: "ping", id: "p1" },
  pong: { v: 1, type: "pong", replyTo: "p1" },
  signed: { v: 1, type: "signed", from: identity.peerId, publicKey: identity.publicKey, body: "{}", sig },
  blobAck: { v: 1, type: "blob-ack", replyTo: "b1", ok: true, sha256: sha },
};

describe("parsePeerMessage", () => {
  it("accepts every well-formed message type", () => {
    for (const [name, message] of Object.entries(good)) {
      const result = parsePeerMessage(message);
      expect(result.ok, name).toBe(true);
    }
    const blob = parsePeerMessage(
      { v: 1, type: "blob", id: "b1", sha256: sha, byteLength: 3 },
      new Uint8Array(3),
    );
    expect(blob.ok).toBe(true);
  });

  it("rejects non-objects, other versions and unknown types with specific codes", () => {
    for (const value of [null, 42, "hello", [good["ping"]], undefined]) {
      expect(parsePeerMessage(value)).toMatchObject({ ok: false, code: "not_an_object" });
    }
    expect(parsePeerMessage({ ...(good["ping"] as object), v: 2 })).toMatchObject({
      ok: false,
      code: "bad_version",
    });
    expect(parsePeerMessage({ ...(good["ping"] as object), v: "1" })).toMatchObject({
      ok: false,
      code: "bad_version",
    });
    expect(parsePeerMessage({ v: 1, type: "shell", cmd: "rm" })).toMatchObject({
      ok: false,
      code: "unknown_type",
    });
    expect(parsePeerMessage({ v: 1, type: "__proto__" })).toMatchObject({ ok: false, code: "unknown_type" });
  });

  it("rejects bad fields: ids, keys, sizes, extra properties", () => {
    const bad: Record<string, unknown>[] = [
      { ...(good["hello"] as object), peerId: "os" + "g".repeat(32) },
      { ...(good["hello"] as object), peerId: "someone-else" },
      { ...(good["hello"] as object), publicKey: "short" },
      { ...(good["hello"] as object), nonce: "A".repeat(42) + "=" },
      { ...(good["helloProof"] as object), signature: sig.slice(1) },
      { v: 1, type: "ping" },
      { ...(good["ping"] as object), id: "x".repeat(65) },
      { ...(good["ping"] as object), id: "has space" },
      { ...(good["pong"] as object), replyTo: undefined },
      { ...(good["signed"] as object), body: "" },
      { ...(good["signed"] as object), body: "x".repeat(256 * 1024 + 1) },
      { ...(good["signed"] as object), extra: true },
      { ...(good["blobAck"] as object), sha256: "AB".repeat(32) },
      { ...(good["blobAck"] as object), ok: "yes" },
    ];
    for (const message of bad) {
      expect(parsePeerMessage(message), JSON.stringify(message).slice(0, 80)).toMatchObject({
        ok: false,
        code: "invalid_fields",
      });
    }
  });

  it("ties attachments to blobs and their declared length", () => {
    const blob = { v: 1, type: "blob", id: "b1", sha256: sha, byteLength: 4 };
    expect(parsePeerMessage(blob, new Uint8Array(3))).toMatchObject({
      ok: false,
      code: "attachment_size_mismatch",
    });
    expect(parsePeerMessage({ ...blob, byteLength: -1 }, new Uint8Array(0))).toMatchObject({
      ok: false,
      code: "invalid_fields",
    });
    expect(parsePeerMessage({ ...blob, byteLength: 1.5 }, new Uint8Array(0))).toMatchObject({
      ok: false,
      code: "invalid_fields",
    });
    expect(parsePeerMessage(good["ping"], new Uint8Array(1))).toMatchObject({
      ok: false,
      code: "unexpected_attachment",
    });
  });

  it("never throws on arbitrary JSON (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = parsePeerMessage(value);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.record(
          { v: fc.constant(1), type: fc.constantFrom("hello", "ping", "signed", "blob") },
          { requiredKeys: [] },
        ),
        (value) => {
          expect(parsePeerMessage(value).ok).toBe(false);
        },
      ),
    );
  });
});

describe("parseSignedBody", () => {
  const body = { type: "note", to: null, atMs: 1, nonce: "C".repeat(22), text: "hi" };

  it("accepts a note and rejects malformed bodies", () => {
    expect(parseSignedBody(JSON.stringify(body))).toMatchObject({ ok: true, body });
    expect(parseSignedBody(JSON.stringify({ ...body, to: identity.peerId })).ok).toBe(true);
    expect(parseSignedBody("{not json").ok).toBe(false);
    expect(parseSignedBody(JSON.stringify({ ...body, type: "receipt" })).ok).toBe(false);
    expect(parseSignedBody(JSON.stringify({ ...body, text: "x".repeat(MAX_NOTE_CHARS + 1) })).ok).toBe(false);
    expect(parseSignedBody(JSON.stringify({ ...body, nonce: "short" })).ok).toBe(false);
    expect(parseSignedBody(JSON.stringify({ ...body, to: "nobody" })).ok).toBe(false);
    expect(parseSignedBody(JSON.stringify({ ...body, atMs: -5 })).ok).toBe(false);
  });
});
