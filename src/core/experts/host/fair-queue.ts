/**
 * Queues per requester, served round-robin: the next item comes from the requester after the one served
 * last, so a requester that floods the host waits behind its own requests, never delays another's by more
 * than the one running. The caps (per requester and in total) are the caller's (infer-queue.ts).
 */
export class FairQueue<T extends { readonly from: string }> {
  /** Requesters with queued items (and the last served), in round-robin order (Map keeps insertion
   *  order). */
  readonly #queues = new Map<string, T[]>();
  #size = 0;
  #last: string | null = null;

  get size(): number {
    return this.#size;
  }

  sizeOf(from: string): number {
    return this.#queues.get(from)?.length ?? 0;
  }

  push(item: T): void {
    let q = this.#queues.get(item.from);
    if (!q) this.#queues.set(item.from, (q = []));
    q.push(item);
    this.#size++;
  }

  /** The next item: the first of the next requester after the one served last (wrapping around). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const order = [...this.#queues.keys()];
    const start = this.#last === null ? 0 : order.indexOf(this.#last) + 1;
    let item: T | undefined;
    for (let k = 0; k < order.length && !item; k++) {
      const from = order[(start + k) % order.length]!;
      item = this.#queues.get(from)!.shift();
      if (item) this.#last = from;
    }
    this.#size--;
    this.#prune();
    return item;
  }

  /** Removes and returns every item (in rotation order), or those `keep` rejects. */
  remove(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [from, q] of this.#queues) {
      const kept = q.filter((item) => !drop(item) || (removed.push(item), false));
      this.#size -= q.length - kept.length;
      this.#queues.set(from, kept);
    }
    this.#prune();
    return removed;
  }

  /** Empty queues go, except the last served one's: it marks where the rotation stands (a requester that
   *  sends again right after its turn still waits for everyone else's). */
  #prune(): void {
    for (const [from, q] of this.#queues)
      if (q.length === 0 && from !== this.#last) this.#queues.delete(from);
  }
}
