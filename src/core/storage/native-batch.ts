import type { StoreBatch } from "../jobs/job-store.ts";

/**
 * The requester's write batch (jobs/requester/write-behind.ts) as one plain IndexedDB transaction, below
 * Dexie: the batch is a list of puts whose rows need no mapping, and Dexie's promise zones and middleware
 * around each put cost the requester's main thread about as much as the puts themselves (measured by
 * bench:swarm --profile). Same order and atomicity as before: everything or nothing, results before the
 * units that point at them. The object stores and keys are those of db.ts; no Dexie hook or live query
 * watches these tables, so bypassing Dexie changes nothing it would have seen.
 */
export const BATCH_STORES = ["jobBlobs", "results", "jobs", "units", "reputation"] as const;

export function saveBatchNative(idb: IDBDatabase, batch: StoreBatch): Promise<void> {
  const { blobs, results, verified, changes } = batch;
  return new Promise<void>((resolve, reject) => {
    const tx = idb.transaction([...BATCH_STORES], "readwrite");
    tx.oncomplete = () => resolve();
    // A failed request aborts the transaction (its error event is not handled): reported once, from abort.
    tx.onabort = () => reject(tx.error ?? new Error("the write batch was aborted"));
    // put() throws at once on a row it cannot store (no key, not cloneable): abort, so nothing of the
    // batch is stored, rather than commit the rows queued before it.
    try {
      const store = (name: (typeof BATCH_STORES)[number]) => tx.objectStore(name);
      for (const b of blobs) store("jobBlobs").put({ sha256: b.sha256, bytes: b.bytes, storedAtMs: b.nowMs });
      for (const r of results) store("results").put(r);
      for (const v of verified) {
        // As Dexie's update(): the stored row gets the fields, a row that is not there stays absent.
        const read = store("results").get([v.unitId, v.attempt]);
        read.onsuccess = () => {
          const row: unknown = read.result;
          if (row !== undefined) {
            store("results").put({ ...(row as object), verified: true, relResiduals: [...v.relResiduals] });
          }
        };
      }
      for (const job of changes.jobs) store("jobs").put(job);
      for (const unit of changes.units) store("units").put(unit);
      for (const record of changes.reputation) store("reputation").put(record);
    } catch (error) {
      tx.abort();
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
