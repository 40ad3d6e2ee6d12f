import { fromBase64Url, toBase64Url, toHex } from "../base/encoding.ts";
import { KeyCache } from "./key-cache.ts";

/**
 * A peer's identity: an Ed25519 key pair made with WebCrypto. The private key is created non-extractable,
 * so script on the page can sign with it but never read it out. The peer id is derived from the public key,
 * so whoever proves possession of the private key (by signing a server nonce) owns the id.
 */
export interface Identity {
  /** "os" + 32 hex chars of SHA-256(public key): a valid PeerJS id, stable per key. */
  readonly peerId: string;
  /** Raw 32-byte Ed25519 public key, base64url. */
  readonly publicKey: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const ED25519 = { name: "Ed25519" } as const;

export async function peerIdFromPublicKey(publicKeyRaw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", publicKeyRaw as BufferSource));
  return "os" + toHex(digest.subarray(0, 16));
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"])) as CryptoKeyPair;
}

export async function identityFromKeyPair(keys: CryptoKeyPair): Promise<Identity> {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const peerId = await peerIdFromPublicKey(raw);
  return {
    peerId,
    publicKey: toBase64Url(raw),
    sign: async (data) =>
      new Uint8Array(await crypto.subtle.sign(ED25519, keys.privateKey, data as BufferSource)),
  };
}

const verifyKeys = new KeyCache<CryptoKey | null>();
const peerIds = new KeyCache<string>();

/** null for a key that is not 32 bytes of base64url (cached like a good one: the text decides). */
async function importVerifyKey(publicKey: string): Promise<CryptoKey | null> {
  let raw: Uint8Array;
  try {
    raw = fromBase64Url(publicKey);
  } catch {
    return null;
  }
  if (raw.length !== 32) return null;
  return crypto.subtle.importKey("raw", raw as BufferSource, ED25519, false, ["verify"]);
}

/** Checks a signature against a base64url public key; false (never a throw) on any malformed input. */
export async function verifySignature(
  publicKey: string,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    if (signature.length !== 64) return false;
    const key = await verifyKeys.get(publicKey, importVerifyKey);
    if (key === null) return false;
    return await crypto.subtle.verify(ED25519, key, signature as BufferSource, data as BufferSource);
  } catch {
    return false;
  }
}

/** True when `peerId` is the id derived from `publicKey`: a peer cannot claim someone else's id. */
export async function peerIdMatchesKey(peerId: string, publicKey: string): Promise<boolean> {
  try {
    const derived = await peerIds.get(publicKey, (k) => peerIdFromPublicKey(fromBase64Url(k)));
    return derived === peerId;
  } catch {
    return false;
  }
}
