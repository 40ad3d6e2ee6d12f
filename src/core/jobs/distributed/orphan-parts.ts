/** A peer's halo part for a block this volunteer does not hold (yet). */
export interface OrphanPart {
  readonly from: string;
  readonly unitId: string;
  readonly attempt: number;
  readonly part: unknown;
}

/**
 * Halo parts for a block whose init has not arrived yet: a neighbour that restarted first may send its
 * halo before the requester's (large) block data reaches us. They are handed to the block's inbox at its
 * init (and checked there); bounded for all requesters together, the oldest evicted first.
 */
export class OrphanParts {
  readonly #parts: OrphanPart[] = [];

  constructor(private readonly max: number) {}

  /** Keeps `part`; true when the oldest part was evicted to make room (the caller counts it). */
  keep(part: OrphanPart): boolean {
    const evicted = this.#parts.length >= this.max;
    if (evicted) this.#parts.shift();
    this.#parts.push(part);
    return evicted;
  }

  /** Removes and returns the parts kept for this unit and attempt. */
  take(unitId: string, attempt: number): OrphanPart[] {
    const mine: OrphanPart[] = [];
    for (let i = 0; i < this.#parts.length;) {
      const o = this.#parts[i]!;
      if (o.unitId !== unitId || o.attempt !== attempt) i++;
      else mine.push(...this.#parts.splice(i, 1));
    }
    return mine;
  }
}
