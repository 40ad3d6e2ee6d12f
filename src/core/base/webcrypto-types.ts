/**
 * WebCrypto types spelled from the global `crypto`, so code using them compiles under every lib this repo
 * uses: the DOM and WebWorker libs name them CryptoKey/CryptoKeyPair/BufferSource, Node's types only under
 * `webcrypto.*` (no globals).
 */
export type WebCryptoKey = Parameters<typeof crypto.subtle.sign>[1];
export interface WebCryptoKeyPair {
  readonly publicKey: WebCryptoKey;
  readonly privateKey: WebCryptoKey;
}
