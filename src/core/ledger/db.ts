import { Dexie, type DexieOptions, type EntityTable, type Table } from "dexie";
import type { WebCryptoKeyPair } from "../identity/webcrypto-types.ts";
import type { Job, WorkUnit } from "../jobs/model.ts";
import type { ReputationRecord } from "../jobs/reputation.ts";

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

/** A result a volunteer returned for (unitId, attempt): kept so a reload re-verifies instead of recomputing. */
export interface ResultRow {
  readonly unitId: string;
  readonly attempt: number;
  readonly jobId: string;
  readonly volunteerId: string;
  readonly receivedAtMs: number;
  /** One solution per right-hand side of the unit (IndexedDB stores typed arrays natively). */
  readonly xs: readonly Float64Array[];
  /** The requester's own certificate per solution, once verified. */
  readonly relResiduals: readonly number[] | null;
  readonly verified: boolean;
  /** The signed result envelope as received (JSON text), for audit; null in tests without a mesh. */
  readonly envelope: string | null;
}

/** A job input (matrix, right-hand side) by content digest, so a job survives closing every tab. */
export interface JobBlobRow {
  readonly sha256: string;
  readonly bytes: Uint8Array;
  readonly storedAtMs: number;
}

export const DEFAULT_DB_NAME = "open-swarm";

/**
 * The one IndexedDB database of Open-Swarm. Schema changes add a new `this.version(n).stores(...)` call
 * (Dexie keeps the old ones to upgrade existing profiles); later issues add jobs, units and receipts here.
 */
export class OpenSwarmDb extends Dexie {
  identity!: EntityTable<IdentityRow, "id">;
  jobs!: EntityTable<Job, "id">;
  units!: EntityTable<WorkUnit, "id">;
  results!: Table<ResultRow, [string, number]>;
  reputation!: EntityTable<ReputationRecord, "volunteerId">;
  jobBlobs!: EntityTable<JobBlobRow, "sha256">;

  /** `options.indexedDB`/`IDBKeyRange` let Node tests pass an in-memory IndexedDB implementation. */
  constructor(name: string = DEFAULT_DB_NAME, options?: DexieOptions) {
    super(name, options);
    this.version(1).stores({ identity: "id" });
    // Version 2 (jobs, issue 4): tables not named here (identity) are kept as they are.
    this.version(2).stores({
      jobs: "id, status, createdAtMs",
      units: "id, jobId, status",
      results: "[unitId+attempt], unitId, jobId",
      reputation: "volunteerId",
      jobBlobs: "sha256",
    });
  }
}
