import { toBase64Url } from "../base/encoding.ts";

/** A fresh id for a request, ping or blob: 96 random bits, so replies cannot be guessed or collide. */
export function randomMessageId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(12)));
}
