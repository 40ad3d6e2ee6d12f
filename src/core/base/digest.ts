import { toHex } from "./encoding.ts";

/** SHA-256 of `bytes` as lowercase hex (WebCrypto: tabs, workers and Node alike): the content address of
 *  blobs, payloads and model files. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // digest() wants a BufferSource backed by an ArrayBuffer; copy only when the view is on a shared buffer.
  const view = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", view)));
}
