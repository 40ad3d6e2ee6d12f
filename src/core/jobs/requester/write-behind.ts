import type { BlobWrite, JobStore, ResultRow, StoreBatch, VerifiedMark } from "../job-store.ts";
import type { SchedulerChanges } from "../scheduler/scheduler.ts";

/**
 * The requester's writes to its JobStore, gathered for a moment and stored as one transaction
 * (JobStore.saveBatch) instead of one per event: an IndexedDB transaction costs the main thread about a
 * millisecond whatever it holds, and a unit used to cost several (its result, its verified mark, the
 * scheduler's change after each message). The scheduler's changes are drained at flush time, so the many
 * changes one unit goes through in a moment are stored once, in their last state.
 *
 * Ordering: each flush takes everything queued until then, and flushes are chained, so they reach the
 * store in the order they happened; inside one batch results come before the scheduler's changes, so a
 * unit is never stored done without its verified result. A crash before a flush loses that moment's
 * writes whole: after the reload the unit is where the last flush left it (leased or verifying: reissued
 * or re-verified, resume.ts), never done without its result. What must not be told before it is stored
 * (a verdict to a volunteer) waits for `stored()`.
 */
export interface WriteBehindOptions {
  readonly store: JobStore;
  /** The scheduler's changes since the last call (scheduler.drainChanges). */
  readonly drainChanges: () => SchedulerChanges;
  /** How long writes gather before they are stored. */
  readonly delayMs: number;
  readonly onError?: (message: string) => void;
}

const keyOf = (unitId: string, attempt: number) => `${unitId}#${attempt}`;

export class WriteBehind {
  readonly #o: WriteBehindOptions;
  readonly #blobs = new Map<string, BlobWrite>();
  readonly #results = new Map<string, ResultRow>();
  readonly #verified = new Map<string, VerifiedMark>();
  /** Waiters of stored(), resolved once the next flush is in the store. */
  #waiters: (() => void)[] = [];
  #saving: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: WriteBehindOptions) {
    this.#o = options;
  }

  putBlob(write: BlobWrite): void {
    this.#blobs.set(write.sha256, write);
    this.schedule();
  }

  putResult(row: ResultRow): void {
    const key = keyOf(row.unitId, row.attempt);
    this.#results.set(key, row);
    this.#verified.delete(key);
    this.schedule();
  }

  /** Marks a result verified: in its queued row if it is still queued, else as an update of the stored row. */
  markVerified(mark: VerifiedMark): void {
    const key = keyOf(mark.unitId, mark.attempt);
    const row = this.#results.get(key);
    if (row !== undefined) {
      this.#results.set(key, { ...row, verified: true, relResiduals: [...mark.relResiduals] });
    } else this.#verified.set(key, mark);
    this.schedule();
  }

  /** Asks for a flush within delayMs (the scheduler changed, or something was queued). */
  schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush().catch(() => undefined); // reported through onError
    }, this.#o.delayMs);
  }

  /** Resolves once everything queued so far is stored, without hurrying the flush. */
  stored(): Promise<void> {
    const done = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.schedule();
    return done;
  }

  /**
   * Stores everything queued now (and the scheduler's changes); resolves once it is in the store, rejects
   * if this batch failed (reported through onError too; later batches still go).
   */
  flush(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const batch: StoreBatch = {
      blobs: [...this.#blobs.values()],
      results: [...this.#results.values()],
      verified: [...this.#verified.values()],
      changes: this.#o.drainChanges(),
    };
    this.#blobs.clear();
    this.#results.clear();
    this.#verified.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    const save = this.#saving.then(() => this.#o.store.saveBatch(batch));
    this.#saving = save
      .catch((error: unknown) => this.#o.onError?.(`saving job state failed: ${String(error)}`))
      .finally(() => {
        for (const resolve of waiters) resolve();
      });
    return save;
  }
}
