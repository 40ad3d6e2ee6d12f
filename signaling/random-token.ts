import { randomBytes } from "node:crypto";
import { toBase64Url } from "../src/core/base/encoding.ts";

/** 32 random bytes, base64url: unguessable nonces and session tokens, safe in URLs (PeerJS query). */
export function randomToken(): string {
  return toBase64Url(randomBytes(32));
}
