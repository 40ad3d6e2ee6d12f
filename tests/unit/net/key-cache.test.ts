import { describe, expect, it } from "vitest";
import { toBase64Url } from "../../../src/core/base/encoding.ts";
import {
  generateKeyPair,
  identityFromKeyPair,
  peerIdMatchesKey,
  verifySignature,
} from "../../../src/core/identity/identity.ts";
import { KeyCache } from "../../../src/core/identity/key-cache.ts";

/** The imported-key cache under signature checks (identity/key-cache.ts): faster, never more lenient. */
describe("verify key cache", () => {
  it("is bounded (oldest out first) and does not keep a failure", async () => {
    const cache = new KeyCache<string>(2);
    let made = 0;
    const make = async (k: string) => `${k}:${++made}`;
    expect(await cache.get("a", make)).toBe("a:1");
    expect(await cache.get("a", make)).toBe("a:1");
    await cache.get("b", make);
    await cache.get("c", make); // evicts "a"
    expect(await cache.get("a", make)).toBe("a:4");
    await expect(cache.get("x", () => Promise.reject(new Error("no")))).rejects.toThrow("no");
    expect(await cache.get("x", make)).toBe("x:5");
  });

  it("a cached key still refuses another key's signature, a wrong id and a malformed key", async () => {
    const alice = await identityFromKeyPair(await generateKeyPair());
    const bob = await identityFromKeyPair(await generateKeyPair());
    const data = new TextEncoder().encode("unit-result");
    const sig = await alice.sign(data);
    for (let i = 0; i < 3; i++) {
      // Repeated: the first call fills the cache, the others use it.
      expect(await verifySignature(alice.publicKey, data, sig)).toBe(true);
      expect(await verifySignature(bob.publicKey, data, sig)).toBe(false);
      expect(await verifySignature(alice.publicKey, new TextEncoder().encode("other"), sig)).toBe(false);
      expect(await peerIdMatchesKey(alice.peerId, alice.publicKey)).toBe(true);
      expect(await peerIdMatchesKey(bob.peerId, alice.publicKey)).toBe(false);
      expect(await verifySignature(toBase64Url(new Uint8Array(31)), data, sig)).toBe(false);
      expect(await verifySignature("not base64url!", data, sig)).toBe(false);
    }
  });
});
