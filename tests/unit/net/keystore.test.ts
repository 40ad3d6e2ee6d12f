import { IDBKeyRange, indexedDB } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../../src/core/identity/identity.ts";
import { KeystoreError, loadOrCreateIdentity } from "../../../src/core/identity/keystore.ts";
import { identityStoreOf, OpenSwarmDb } from "../../../src/core/storage/db.ts";
import { utf8 } from "../../../src/core/base/encoding.ts";
import { verifySignature } from "../../../src/core/identity/identity.ts";
import type { WebCryptoKeyPair } from "../../../src/core/base/webcrypto-types.ts";

// fake-indexeddb is a complete in-memory IndexedDB (structured clone included), so CryptoKeys round-trip.
let counter = 0;
const opened: OpenSwarmDb[] = [];
function openDb(name: string): OpenSwarmDb {
  const db = new OpenSwarmDb(name, { indexedDB, IDBKeyRange });
  opened.push(db);
  return db;
}
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

describe("loadOrCreateIdentity", () => {
  it("creates an identity once and loads the same one after a reopen", async () => {
    const name = `ks-${counter++}`;
    const first = await loadOrCreateIdentity(identityStoreOf(openDb(name)));
    const again = await loadOrCreateIdentity(identityStoreOf(openDb(name)));
    expect(again.peerId).toBe(first.peerId);
    expect(again.publicKey).toBe(first.publicKey);
    const signature = await again.sign(utf8.encode("persisted"));
    expect(await verifySignature(first.publicKey, utf8.encode("persisted"), signature)).toBe(true);
  });

  it("stores a non-extractable private key", async () => {
    const db = openDb(`ks-${counter++}`);
    await loadOrCreateIdentity(identityStoreOf(db));
    const row = await db.identity.get("self");
    expect(row?.keyPair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("pkcs8", row!.keyPair.privateKey)).rejects.toThrow();
  });

  it("gives racing tabs the same identity", async () => {
    const name = `ks-${counter++}`;
    const ids = await Promise.all(
      [0, 1, 2, 3].map(() => loadOrCreateIdentity(identityStoreOf(openDb(name)))),
    );
    expect(new Set(ids.map((id) => id.peerId)).size).toBe(1);
  });

  it("reports a corrupted row with a specific error", async () => {
    const db = openDb(`ks-${counter++}`);
    const keyPair = await generateKeyPair();
    await db.identity.put({ id: "self", keyPair, peerId: "os" + "0".repeat(32), createdAtMs: 0 });
    await expect(loadOrCreateIdentity(identityStoreOf(db))).rejects.toMatchObject({ code: "corrupt_row" });
    await db.identity.put({
      id: "self",
      keyPair: { nope: true } as unknown as WebCryptoKeyPair,
      peerId: "x",
      createdAtMs: 0,
    });
    await expect(loadOrCreateIdentity(identityStoreOf(db))).rejects.toBeInstanceOf(KeystoreError);
  });
});
