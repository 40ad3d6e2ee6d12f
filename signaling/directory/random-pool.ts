/**
 * A set with O(1) add, delete and uniform random pick (an array with swap-remove and an index map), so the
 * directory can sample peers at any swarm size without scanning or copying the whole swarm.
 */
export class RandomPool<T> {
  private readonly items: T[] = [];
  private readonly index = new Map<T, number>();

  get size(): number {
    return this.items.length;
  }

  has(item: T): boolean {
    return this.index.has(item);
  }

  add(item: T): void {
    if (this.index.has(item)) return;
    this.index.set(item, this.items.length);
    this.items.push(item);
  }

  delete(item: T): void {
    const at = this.index.get(item);
    if (at === undefined) return;
    const last = this.items.pop()!;
    this.index.delete(item);
    if (last !== item) {
      this.items[at] = last;
      this.index.set(last, at);
    }
  }

  /** A uniformly random member; undefined when empty. `random` returns [0, 1). */
  pick(random: () => number): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items[Math.floor(random() * this.items.length)];
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }
}
