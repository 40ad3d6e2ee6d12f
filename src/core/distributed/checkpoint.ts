import type { RowPartition } from "./partition.ts";

/** A full iterate whose blocks all come from the same iteration: safe to restart the recurrence from. */
export interface Checkpoint {
  readonly iteration: number;
  readonly x: Float64Array;
}

/**
 * Collects x blocks sent with a checkpoint request and commits the iterate once every block of the same
 * iteration is in. Until then the previous committed checkpoint stays the one to restart from.
 */
export class CheckpointStore {
  private committedCp: Checkpoint;
  private pending: { iteration: number; x: Float64Array; have: Set<number> } | null = null;

  constructor(
    private readonly partition: RowPartition,
    x0: Float64Array,
    startIteration = 0,
  ) {
    this.committedCp = { iteration: startIteration, x: x0.slice() };
  }

  get committed(): Checkpoint {
    return this.committedCp;
  }

  /**
   * Adds one block's x of checkpoint `iteration`: "committed" when it completed the iterate (and `accept`,
   * if given, passed it), "refused" when `accept` did not (the iterate is dropped), "pending" while blocks
   * are missing, "ignored" for a stale or malformed one. Blocks of another iteration replace a stale pending one.
   */
  add(
    block: number,
    iteration: number,
    xBlock: Float64Array,
    accept?: (x: Float64Array) => boolean,
  ): "committed" | "refused" | "pending" | "ignored" {
    const b = this.partition.blocks[block];
    if (
      b === undefined ||
      xBlock.length !== b.rowEnd - b.rowStart ||
      iteration <= this.committedCp.iteration
    ) {
      return "ignored";
    }
    if (this.pending?.iteration !== iteration) {
      this.pending = { iteration, x: new Float64Array(this.partition.rows), have: new Set() };
    }
    this.pending.x.set(xBlock, b.rowStart);
    this.pending.have.add(block);
    if (this.pending.have.size < this.partition.blocks.length) return "pending";
    const x = this.pending.x;
    this.pending = null;
    if (accept !== undefined && !accept(x)) return "refused";
    this.committedCp = { iteration, x };
    return "committed";
  }

  /** Drops a partly collected checkpoint (after a failover it can never complete). */
  dropPending(): void {
    this.pending = null;
  }

  blockOf(block: number): Float64Array<ArrayBuffer> {
    const b = this.partition.blocks[block]!;
    return this.committedCp.x.slice(b.rowStart, b.rowEnd);
  }
}
