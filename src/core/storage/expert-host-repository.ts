import type { ExpertHostRecord } from "../experts/router/index.ts";
import type { OpenSwarmDb } from "./db.ts";

/**
 * The experts router's memory of hosts across sessions (ExpertRouterOptions.hostRecords/onHostRecords) in
 * IndexedDB: reputation and bans per identity. Saves are chained, so a newer record of a host is never
 * overwritten by an older one that happened to finish writing later.
 */
export class ExpertHostRepository {
  readonly #db: OpenSwarmDb;
  #saving: Promise<void> = Promise.resolve();

  constructor(db: OpenSwarmDb) {
    this.#db = db;
  }

  async load(): Promise<ExpertHostRecord[]> {
    return this.#db.expertHosts.toArray();
  }

  /** Stores the records (after every earlier save); resolves when written. */
  save(records: readonly ExpertHostRecord[]): Promise<void> {
    const next = this.#saving.then(async () => {
      if (records.length > 0) await this.#db.expertHosts.bulkPut([...records]);
    });
    this.#saving = next.catch(() => undefined);
    return next;
  }
}
