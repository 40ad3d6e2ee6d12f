import type { WebCryptoKeyPair } from "../base/webcrypto-types.ts";
import { generateKeyPair, identityFromKeyPair, type Identity } from "./identity.ts";
import { CodedError } from "../base/coded-error.ts";

const SELF_ROW_ID = "self";

/**
 * The peer's own key pair as stored. CryptoKey objects are structured-cloneable, so IndexedDB stores the
 * non-extractable private key itself: script on the page can sign with it, never read it out.
 */
export interface IdentityRow {
  /** Always "self" today; a string key leaves room for more than one stored identity. */
  readonly id: string;
  readonly keyPair: WebCryptoKeyPair;
  /** Derived from the public key; stored to detect a corrupted or hand-edited row. */
  readonly peerId: string;
  readonly createdAtMs: number;
}

/**
 * Where the identity is kept. The keystore says what it needs and storage/ implements it (IndexedDB in a
 * tab), so identity does not depend on a database.
 */
export interface IdentityStore {
  get(id: string): Promise<IdentityRow | undefined>;
  /** Stores `row` unless a row with its id exists, atomically; returns the key pair kept (the older one). */
  addIfAbsent(row: IdentityRow): Promise<WebCryptoKeyPair>;
}

export type KeystoreErrorCode = "corrupt_row" | "storage_failed";

export class KeystoreError extends CodedError<KeystoreErrorCode> {
  override readonly name = "KeystoreError";
}

function isUsableKeyPair(value: unknown): value is WebCryptoKeyPair {
  if (typeof value !== "object" || value === null) return false;
  const pair = value as Partial<WebCryptoKeyPair>;
  return (
    pair.privateKey?.type === "private" &&
    pair.publicKey?.type === "public" &&
    pair.privateKey.algorithm.name === "Ed25519" &&
    pair.privateKey.usages.includes("sign")
  );
}

/**
 * The identity of this browser profile: loaded from IndexedDB, or made and stored on first use.
 * Race-safe across tabs: the key is generated outside the transaction (WebCrypto promises would end an
 * IndexedDB transaction), then written only if no other tab stored one first; everyone uses the stored one.
 */
export async function loadOrCreateIdentity(store: IdentityStore): Promise<Identity> {
  const existing = await readStored(store);
  if (existing) return existing;

  const fresh = await generateKeyPair();
  const freshIdentity = await identityFromKeyPair(fresh);
  let stored: WebCryptoKeyPair;
  try {
    stored = await store.addIfAbsent({
      id: SELF_ROW_ID,
      keyPair: fresh,
      peerId: freshIdentity.peerId,
      createdAtMs: Date.now(),
    });
  } catch (error) {
    throw new KeystoreError("storage_failed", `could not store the identity: ${String(error)}`);
  }
  return stored === fresh ? freshIdentity : checkedIdentity(stored, null);
}

/** An identity kept only in memory: for a second tab of a profile whose stored identity is in use. */
export async function createEphemeralIdentity(): Promise<Identity> {
  return identityFromKeyPair(await generateKeyPair());
}

async function readStored(store: IdentityStore): Promise<Identity | null> {
  let row;
  try {
    row = await store.get(SELF_ROW_ID);
  } catch (error) {
    throw new KeystoreError("storage_failed", `could not read the identity: ${String(error)}`);
  }
  if (!row) return null;
  return checkedIdentity(row.keyPair, row.peerId);
}

async function checkedIdentity(keyPair: unknown, storedPeerId: string | null): Promise<Identity> {
  if (!isUsableKeyPair(keyPair)) {
    throw new KeystoreError("corrupt_row", "the stored identity is not an Ed25519 signing key pair");
  }
  const identity = await identityFromKeyPair(keyPair);
  if (storedPeerId !== null && identity.peerId !== storedPeerId) {
    throw new KeystoreError(
      "corrupt_row",
      `the stored peer id ${storedPeerId} does not match its key (${identity.peerId})`,
    );
  }
  return identity;
}
