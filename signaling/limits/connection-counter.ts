/** Open connections per key (client address), with a cap. */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxPerKey: number) {}

  canOpen(key: string): boolean {
    return (this.counts.get(key) ?? 0) < this.maxPerKey;
  }

  open(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  release(key: string): void {
    const count = (this.counts.get(key) ?? 0) - 1;
    if (count <= 0) this.counts.delete(key);
    else this.counts.set(key, count);
  }

  get total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }
}
