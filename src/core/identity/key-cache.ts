/**
 * Remembers, per public key, its imported WebCrypto verify key and the peer id derived from it: a swarm
 * link verifies every message of the same few peers, and importKey plus a SHA-256 per message were most of
 * the main thread's verifying cost. Keyed by the key's exact base64url text; entries depend on that text
 * alone, so a peer cannot poison another's entry. Bounded (oldest out first) against floods of identities.
 */
const MAX_KEYS = 512;

export class KeyCache<V> {
  readonly #entries = new Map<string, Promise<V>>();
  readonly #max: number;

  constructor(max = MAX_KEYS) {
    this.#max = max;
  }

  /** The cached value of `key`, or `make(key)` (cached; a rejection is not kept, so it is tried again). */
  get(key: string, make: (key: string) => Promise<V>): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const value = make(key);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, value);
    value.catch(() => {
      if (this.#entries.get(key) === value) this.#entries.delete(key);
    });
    return value;
  }
}
