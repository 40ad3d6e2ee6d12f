import type { CsrMatrix } from "../sparse/csr.ts";
import type { HaloMirror } from "./halo-mirror.ts";
import type { RowPartition } from "./partition.ts";

/**
 * The requester's audit of one block holder, at every checkpoint and at the gather: the cheapest check
 * that catches a holder sending finite wrong values AND names it, without blaming its neighbours.
 *
 * Why this check (docs/ARCHITECTURE.md, "Distributed solve of one system"): the final certificate already
 * catches a wrong x, but not who made it wrong; replicating a block costs a whole block's work. What a
 * Krylov block must keep true is r_I = b_I − A_I x (its recursive residual, up to a little drift), and
 * every message it sends is a function of its own x and r. So, from data the requester already has (A, b,
 * the halos it routed, the scalars it computed) plus x_I and r_I sent with the checkpoint:
 *  1. exports: x_I at the rows block I exports must equal what its halos implied (HaloMirror replays the
 *     x-update on the halo entries with the worker's own arithmetic: bit-identical when honest). A holder
 *     that lied in a halo, or sends a false x, fails here, and only it: the mirror is built from its parts.
 *  2. rows: for a random sample of I's rows, r_I[i] ≈ b_i − A_i x, with x_I for its own columns and, for
 *     halo columns, the values I was actually sent (the mirror): a neighbour's lie leaves I consistent.
 *     Tolerance 1e-6 of the row's term magnitude: recursive-residual drift is ~1e-13 of it, a corrupted
 *     value is ~1e-3 or more.
 *  3. residual partial: the (r,r) partial I reports in the next (checkpoint) or last (gather) reduction
 *     must equal Σ r_I² of the r it sent (same loop order: bit-identical when honest); this is the number
 *     the coordinator's convergence test sums, so a holder cannot fake convergence at a checkpoint or the end.
 * Cost: per checkpoint O(n) for 3, O(halo) for 1, O(sample · row length) for 2; per iteration O(halo)
 * for the mirror, next to O(nnz) of SpMV + preconditioner in the blocks. bench/attack/solves.ts measures
 * it: about 1–3 % of the workers' compute on bcsstk13 in 3 blocks, more on small matrices (whose halo is a
 * larger share of their nonzeros).
 * A lie that passes all three leaves a self-consistent (x, r): restarting from it is valid, it can only
 * cost iterations, and the certificate still guards the answer.
 */

/** Relative tolerance of the row check (see above). */
const ROW_TOL = 1e-6;
/** Relative tolerance of the exact checks (1 and 3): honest values agree to the last bit. */
const EXACT_TOL = 1e-12;

export class BlockAuditor {
  readonly #a: CsrMatrix;
  readonly #b: Float64Array;
  readonly #partition: RowPartition;
  #mirror: HaloMirror | null;
  readonly #random: () => number;
  readonly #sampleRows: number;
  /** Per block, global column → its halo slot. */
  readonly #slots = new Map<number, Map<number, number>>();
  readonly #haloRows = new Map<number, Int32Array>();

  constructor(
    a: CsrMatrix,
    b: Float64Array,
    partition: RowPartition,
    mirror: HaloMirror | null,
    random: () => number,
    sampleRows: number,
  ) {
    this.#a = a;
    this.#b = b;
    this.#partition = partition;
    this.#mirror = mirror;
    this.#random = random;
    this.#sampleRows = sampleRows;
  }

  /** Checks 1 and 2 for block `block`'s x and r; returns what is wrong, or null. */
  check(block: number, x: Float64Array, r: Float64Array): string | null {
    const blk = this.#partition.blocks[block]!;
    if (x.length !== blk.rowEnd - blk.rowStart || r.length !== x.length) return `x or r has the wrong length`;
    if (this.#mirror !== null) {
      for (const e of blk.exports) {
        const implied = this.#mirror.x(block, e.block);
        if (implied === undefined) continue;
        for (let k = 0; k < e.rows.length; k++) {
          const own = x[e.rows[k]! - blk.rowStart]!;
          const told = implied[k]!;
          if (Math.abs(own - told) > EXACT_TOL * (Math.abs(own) + Math.abs(told))) {
            return `x[${e.rows[k]}] = ${own} but its halos to block ${e.block} implied ${told}`;
          }
        }
      }
    }
    const n = x.length;
    const halo = this.#mirror === null ? null : this.#haloValues(block);
    for (let s = 0; s < Math.min(n, this.#sampleRows); s++) {
      const i = Math.min(n - 1, Math.floor(this.#random() * n));
      const bad = this.#row(block, i, x, r, halo);
      if (bad !== null) return bad;
    }
    return null;
  }

  /** Peer routing fell back to coordinator routing: checks 1 and 2 use this mirror from now on. */
  useMirror(mirror: HaloMirror): void {
    this.#mirror = mirror;
  }

  /**
   * Check 2 under peer routing, once every block's checkpoint x is in: the sampled rows of block `block`
   * against the whole iterate `global` (its neighbours' checkpoint x standing in for the halo values it
   * was sent, which the requester never saw). A failure here does not say who lied (the block, or a
   * neighbour in a halo), so the coordinator does not blame on it: it falls back to coordinator routing,
   * where checks 1 and 2 name the liar.
   */
  checkAgainst(block: number, x: Float64Array, r: Float64Array, global: Float64Array): string | null {
    const blk = this.#partition.blocks[block]!;
    const halo = Float64Array.from(blk.haloCols, (c) => global[c]!);
    // Every row with a halo column: a lie in a halo leaves the receiver's r off on exactly those rows
    // (its interior stays consistent), so sampling them could miss it. O(halo) per checkpoint.
    for (const i of this.#haloRowsOf(block)) {
      const bad = this.#row(block, i, x, r, halo);
      if (bad !== null) return bad;
    }
    const n = x.length;
    for (let s = 0; s < Math.min(n, this.#sampleRows); s++) {
      const i = Math.min(n - 1, Math.floor(this.#random() * n));
      const bad = this.#row(block, i, x, r, halo);
      if (bad !== null) return bad;
    }
    return null;
  }

  /** Check 3: the reported (r,r) partial against Σ r² of the r that was sent. */
  static residualPartialAgrees(r: Float64Array, partial: number): boolean {
    let rr = 0;
    for (let i = 0; i < r.length; i++) rr += r[i]! * r[i]!;
    return Math.abs(rr - partial) <= EXACT_TOL * Math.abs(rr);
  }

  /** The halo values block `block` was sent, in its halo-slot order; null if any part is unknown. */
  #haloValues(block: number): Float64Array | null {
    const blk = this.#partition.blocks[block]!;
    const out = new Float64Array(blk.haloCols.length);
    if (out.length === 0) return out;
    let start = 0;
    for (let s = 0; s <= blk.haloCols.length; s++) {
      if (s < blk.haloCols.length && (s === 0 || blk.haloOwners[s] === blk.haloOwners[s - 1])) continue;
      // Slots [start, s) belong to one owner: its part to this block, in the same order.
      const part = this.#mirror?.x(blk.haloOwners[start]!, block);
      if (part === undefined || part.length !== s - start) return null;
      out.set(part, start);
      start = s;
    }
    return out;
  }

  #row(block: number, i: number, x: Float64Array, r: Float64Array, halo: Float64Array | null): string | null {
    const blk = this.#partition.blocks[block]!;
    const g = blk.rowStart + i;
    const { rowPtr, colIdx, values } = this.#a;
    const slots = this.#slotsOf(block);
    let ax = 0;
    let magnitude = Math.abs(this.#b[g]!);
    for (let p = rowPtr[g]!; p < rowPtr[g + 1]!; p++) {
      const c = colIdx[p]!;
      let v: number;
      if (c >= blk.rowStart && c < blk.rowEnd) v = x[c - blk.rowStart]!;
      // Without the values this block was sent (peer routing), rows with halo columns are not judged.
      else if (halo === null) return null;
      else v = halo[slots.get(c)!]!;
      const t = values[p]! * v;
      ax += t;
      magnitude += Math.abs(t);
    }
    const truth = this.#b[g]! - ax;
    if (Math.abs(r[i]! - truth) > ROW_TOL * magnitude + Number.MIN_VALUE) {
      return `row ${g}: its residual ${r[i]} but b − A x there is ${truth}`;
    }
    return null;
  }

  /** Local rows of block `block` with a column outside it. */
  #haloRowsOf(block: number): Int32Array {
    let rows = this.#haloRows.get(block);
    if (rows === undefined) {
      const blk = this.#partition.blocks[block]!;
      const { rowPtr, colIdx } = this.#a;
      const out: number[] = [];
      for (let g = blk.rowStart; g < blk.rowEnd; g++) {
        for (let p = rowPtr[g]!; p < rowPtr[g + 1]!; p++) {
          const c = colIdx[p]!;
          if (c < blk.rowStart || c >= blk.rowEnd) {
            out.push(g - blk.rowStart);
            break;
          }
        }
      }
      rows = Int32Array.from(out);
      this.#haloRows.set(block, rows);
    }
    return rows;
  }

  /** Global column → halo slot of block `block`. */
  #slotsOf(block: number): Map<number, number> {
    let map = this.#slots.get(block);
    if (map === undefined) {
      map = new Map();
      this.#partition.blocks[block]!.haloCols.forEach((c, s) => map!.set(c, s));
      this.#slots.set(block, map);
    }
    return map;
  }
}
