/**
 * Queues per requester, served round-robin: the next item comes from the requester after the one served
 * last, so a requester that floods the host waits behind its own requests, never delays another's by more
 * than the one running. The caps (per requester and in total) are the caller's (infer-queue.ts).
 */
export class FairQueue<T extends { readonly from: string }> {
  /** Requesters with queued items, in round-robin order (Map keeps insertion order). */
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

  /** The next item: the first of the requester after the one served last (wrapping around). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const order = [...this.#queues.keys()];
    const after = this.#last === null ? -1 : order.indexOf(this.#last);
    // A requester served last and since emptied is no longer in `order`: start from the first then.
    const from = order[(after + 1) % order.length]!;
    const q = this.#queues.get(from)!;
    const item = q.shift()!;
    this.#size--;
    if (q.length === 0) {
      // Keep the rotation's place: the next pick starts after this requester's former slot.
      const next = order[(after + 2) % order.length];
      this.#queues.delete(from);
      this.#last = next !== undefined && next !== from ? previousOf(order, next, from) : null;
    } else this.#last = from;
    return item;
  }

  /** Removes and returns every item (in rotation order), or those `keep` rejects. */
  remove(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [from, q] of this.#queues) {
      const kept = q.filter((item) => !drop(item) || (removed.push(item), false));
      this.#size -= q.length - kept.length;
      if (kept.length > 0) this.#queues.set(from, kept);
      else this.#queues.delete(from);
    }
    if (this.#last !== null && !this.#queues.has(this.#last)) this.#last = null;
    return removed;
  }
}

/** The requester before `next` in the rotation once `gone` leaves it (so `next` is picked next), or null
 *  when `next` becomes the first. */
function previousOf(order: readonly string[], next: string, gone: string): string | null {
  const rest = order.filter((k) => k !== gone);
  const i = rest.indexOf(next);
  return i > 0 ? rest[i - 1]! : null;
}
