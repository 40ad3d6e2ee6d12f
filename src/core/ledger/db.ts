import { Dexie, type DexieOptions, type EntityTable } from "dexie";
import type { WebCryptoKeyPair } from "../identity/webcrypto-types.ts";

/**
 * The peer's own key pair. CryptoKey objects are structured-cloneable, so IndexedDB stores the
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

export const DEFAULT_DB_NAME = "open-swarm";

/**
 * The one IndexedDB database of Open-Swarm. Schema changes add a new `this.version(n).stores(...)` call
 * (Dexie keeps the old ones to upgrade existing profiles); later issues add jobs, units and receipts here.
 */
export class OpenSwarmDb extends Dexie {
  identity!: EntityTable<IdentityRow, "id">;

  /** `options.indexedDB`/`IDBKeyRange` let Node tests pass an in-memory IndexedDB implementation. */
  constructor(name: string = DEFAULT_DB_NAME, options?: DexieOptions) {
    super(name, options);
    this.version(1).stores({ identity: "id" });
  }
}
