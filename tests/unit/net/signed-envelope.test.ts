import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url, utf8 } from "../../../src/core/base/encoding.ts";
import { generateKeyPair, identityFromKeyPair } from "../../../src/core/identity/identity.ts";
import { signEnvelope, verifyEnvelope } from "../../../src/core/identity/signed-envelope.ts";

const alice = await identityFromKeyPair(await generateKeyPair());
const bob = await identityFromKeyPair(await generateKeyPair());
const mallory = await identityFromKeyPair(await generateKeyPair());

describe("signed envelopes", () => {
  it("verifies a genuine envelope and returns its parsed body", async () => {
    const envelope = await signEnvelope(
      alice,
      { type: "note", text: "hello bob" },
      { to: bob.peerId, nowMs: 1234 },
    );
    expect(envelope).toMatchObject({ v: 1, type: "signed", from: alice.peerId, publicKey: alice.publicKey });
    const result = await verifyEnvelope(JSON.parse(JSON.stringify(envelope)), { recipient: bob.peerId });
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.body).toMatchObject({ type: "note", text: "hello bob", to: bob.peerId, atMs: 1234 });
  });

  it("gives every envelope a fresh nonce", async () => {
    const a = await signEnvelope(alice, { type: "note", text: "same" }, { to: null, nowMs: 1 });
    const b = await signEnvelope(alice, { type: "note", text: "same" }, { to: null, nowMs: 1 });
    expect(a.body).not.toBe(b.body);
  });

  it("rejects a forged body as forged", async () => {
    const envelope = await signEnvelope(alice, { type: "note", text: "pay 1" }, { to: bob.peerId });
    const tampered = { ...envelope, body: envelope.body.replace("pay 1", "pay 9") };
    expect(tampered.body).not.toBe(envelope.body);
    expect(await verifyEnvelope(tampered)).toMatchObject({
      ok: false,
      kind: "forged",
      code: "bad_signature",
    });
    // Even a whitespace change breaks it: the signature covers the exact text, not its meaning.
    const reformatted = { ...envelope, body: JSON.stringify(JSON.parse(envelope.body), null, 1) };
    expect(await verifyEnvelope(reformatted)).toMatchObject({
      ok: false,
      kind: "forged",
      code: "bad_signature",
    });
  });

  it("rejects a forged signature as forged", async () => {
    const envelope = await signEnvelope(alice, { type: "note", text: "hi" }, { to: null });
    const flipped = fromBase64Url(envelope.sig);
    flipped[10]! ^= 1;
    expect(await verifyEnvelope({ ...envelope, sig: toBase64Url(flipped) })).toMatchObject({
      ok: false,
      kind: "forged",
    });
    const random = toBase64Url(crypto.getRandomValues(new Uint8Array(64)));
    expect(await verifyEnvelope({ ...envelope, sig: random })).toMatchObject({
      ok: false,
      kind: "forged",
      code: "bad_signature",
    });
    // A signature over the body without the domain prefix (e.g. lifted from another protocol) does not verify.
    const undomained = toBase64Url(await alice.sign(utf8.encode(envelope.body)));
    expect(await verifyEnvelope({ ...envelope, sig: undomained })).toMatchObject({
      ok: false,
      kind: "forged",
    });
  });

  it("rejects the wrong key: another key under the claimed id, or a signature by someone else", async () => {
    const envelope = await signEnvelope(alice, { type: "note", text: "from alice" }, { to: null });
    // Mallory swaps in her key but keeps Alice's id: the id is not the hash of that key.
    expect(await verifyEnvelope({ ...envelope, publicKey: mallory.publicKey })).toMatchObject({
      ok: false,
      kind: "forged",
      code: "key_mismatch",
    });
    // Mallory signs Alice's body herself and claims to be Alice with Alice's key: signature fails.
    const byMallory = await signEnvelope(mallory, { type: "note", text: "from alice" }, { to: null });
    expect(
      await verifyEnvelope({ ...byMallory, from: alice.peerId, publicKey: alice.publicKey }),
    ).toMatchObject({
      ok: false,
      kind: "forged",
      code: "bad_signature",
    });
    // Mallory's own, honest envelope is fine: identity is the key, not the name.
    expect((await verifyEnvelope(byMallory)).ok).toBe(true);
  });

  it("rejects genuine but unacceptable envelopes as invalid, not forged", async () => {
    const forBob = await signEnvelope(alice, { type: "note", text: "for bob" }, { to: bob.peerId });
    expect(await verifyEnvelope(forBob, { recipient: mallory.peerId })).toMatchObject({
      ok: false,
      kind: "invalid",
      code: "wrong_recipient",
    });
    const badBody = '{"type":"note","text":"no header fields"}';
    const sig = toBase64Url(await alice.sign(utf8.encode("open-swarm/signed-body/v1\n" + badBody)));
    expect(await verifyEnvelope({ ...forBob, body: badBody, sig })).toMatchObject({
      ok: false,
      kind: "invalid",
      code: "bad_body",
    });
    expect(await verifyEnvelope({ ...forBob, v: 2 })).toMatchObject({
      ok: false,
      kind: "invalid",
      code: "bad_envelope",
    });
    expect(await verifyEnvelope("not an envelope")).toMatchObject({
      ok: false,
      kind: "invalid",
      code: "bad_envelope",
    });
  });
});
