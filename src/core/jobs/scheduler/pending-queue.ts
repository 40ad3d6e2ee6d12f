/**
 * The scheduler's pending units in assignment order (job submission order, then unit index), cheap to keep
 * up to date: a tick usually assigns a few units from the front of a long queue, and sorting the whole set
 * on every tick made the requester's cost per unit grow with the queue (0.7 ms/unit at 20k pending).
 *
 * An id's key never changes (it is the unit's place in the submission order), so a unit that leaves and
 * comes back can reuse its old slot. Leaving only marks the slot stale; stale slots are skipped and
 * swept out once they outnumber live ones. Re-sorting happens only when an id arrives behind the tail.
 */
export class PendingQueue {
  /** Live ids and their keys. */
  readonly #keys = new Map<string, number>();
  /** Ids with a slot in #order, live or stale. */
  readonly #slotted = new Set<string>();
  #order: string[] = [];
  #tailKey = -Infinity;
  #sorted = true;

  get size(): number {
    return this.#keys.size;
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  add(id: string, key: number): void {
    if (this.#keys.has(id)) return;
    this.#keys.set(id, key);
    if (this.#slotted.has(id)) return; // its old slot is live again, and in the right place
    this.#slotted.add(id);
    this.#order.push(id);
    if (key < this.#tailKey) this.#sorted = false;
    else this.#tailKey = key;
  }

  delete(id: string): boolean {
    return this.#keys.delete(id);
  }

  /** Live ids in key order, lazily (a caller that stops early pays only for what it read). Deleting ids
   *  while iterating is safe; ids added meanwhile may or may not be visited. */
  *ordered(): Generator<string, void, undefined> {
    const stale = this.#order.length - this.#keys.size;
    if (!this.#sorted || stale > this.#keys.size) {
      this.#order = [...this.#keys.keys()];
      if (!this.#sorted) this.#order.sort((p, q) => this.#keys.get(p)! - this.#keys.get(q)!);
      this.#slotted.clear();
      for (const id of this.#order) this.#slotted.add(id);
      this.#tailKey =
        this.#order.length === 0 ? -Infinity : this.#keys.get(this.#order[this.#order.length - 1]!)!;
      this.#sorted = true;
    }
    const order = this.#order;
    for (let i = 0; i < order.length; i++) if (this.#keys.has(order[i]!)) yield order[i]!;
  }
}
