import { Dexie, type DexieOptions, type EntityTable, type Table } from "dexie";
import type { WebCryptoKeyPair } from "../base/webcrypto-types.ts";
import type { IdentityRow, IdentityStore } from "../identity/keystore.ts";
import type { ResultRow } from "../jobs/job-store.ts";
import type { SolveJob, WorkUnit } from "../jobs/model.ts";
import type { ReputationRecord } from "../trust/reputation.ts";
import type { ExpertHostRecord } from "../experts/router/index.ts";

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
  jobs!: EntityTable<SolveJob, "id">;
  units!: EntityTable<WorkUnit, "id">;
  results!: Table<ResultRow, [string, number]>;
  reputation!: EntityTable<ReputationRecord, "volunteerId">;
  jobBlobs!: EntityTable<JobBlobRow, "sha256">;
  /** The experts router's reputation and bans per host identity (version 3). Apart from `reputation` (the
   *  solves'): an expert ban follows a proven wrong output and does not lapse, where a solve ban is a ratio
   *  of recent verdicts that does; and the two runtimes keep their own books, which one table would make
   *  overwrite each other. */
  expertHosts!: EntityTable<ExpertHostRecord, "volunteerId">;

  /** `options.indexedDB`/`IDBKeyRange` let Node tests pass an in-memory IndexedDB implementation. */
  constructor(name: string = DEFAULT_DB_NAME, options?: DexieOptions) {
    super(name, options);
    this.version(1).stores({ identity: "id" });
    // Version 2 (jobs): tables not named here (identity) are kept as they are.
    this.version(2).stores({
      jobs: "id, status, createdAtMs",
      units: "id, jobId, status",
      results: "[unitId+attempt], unitId, jobId",
      reputation: "volunteerId",
      jobBlobs: "sha256",
    });
    // Version 3 (experts verification, issue 10): bans and reputation of expert hosts across sessions.
    this.version(3).stores({ expertHosts: "volunteerId" });
  }
}

/** The keystore's IdentityStore over this database's identity table. */
export function identityStoreOf(db: OpenSwarmDb): IdentityStore {
  return {
    get: (id) => db.identity.get(id),
    addIfAbsent: (row: IdentityRow): Promise<WebCryptoKeyPair> =>
      db.transaction("rw", db.identity, async () => {
        const existing = await db.identity.get(row.id);
        if (existing) return existing.keyPair;
        await db.identity.add(row);
        return row.keyPair;
      }),
  };
}
