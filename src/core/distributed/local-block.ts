import { ic0Preconditioner } from "../solver/precond/ic0.ts";
import { ilu0Preconditioner } from "../solver/precond/ilu0.ts";
import { jacobiPreconditioner } from "../solver/precond/precond.ts";
import type { Preconditioner } from "../solver/precond/precond.ts";
import { diagonalBlock } from "./block-data.ts";
import type { BlockData, HaloPart } from "../protocol/distributed.ts";

/** A neighbour's contiguous run of halo slots (owners are contiguous row blocks, haloCols ascending). */
interface HaloSource {
  readonly block: number;
  readonly start: number;
  readonly count: number;
}

/**
 * One block's share of the distributed linear algebra: SpMV on its rows given the halo, halo packing and
 * unpacking, and the local block-Jacobi preconditioner. Shared by the PCG and BiCGSTAB workers.
 */
export class LocalBlock {
  readonly rows: number;
  readonly sources: readonly HaloSource[];
  readonly pre: Preconditioner;
  /** Own values then halo values: the SpMV input. */
  private readonly ext: Float64Array;

  constructor(readonly data: BlockData) {
    this.rows = data.rows;
    this.ext = new Float64Array(data.rows + data.haloOwners.length);
    const sources: HaloSource[] = [];
    data.haloOwners.forEach((owner, i) => {
      const last = sources[sources.length - 1];
      if (last !== undefined && last.block === owner)
        sources[sources.length - 1] = { ...last, count: last.count + 1 };
      else sources.push({ block: owner, start: i, count: 1 });
    });
    this.sources = sources;
    this.pre = buildBlockPreconditioner(data);
  }

  vec(): Float64Array {
    return new Float64Array(this.rows);
  }

  /** The parts of `own` every neighbour needs, tagged for this exchange. */
  exportParts(own: Float64Array, epoch: number, seq: number): HaloPart[] {
    return this.data.exports.map((e) => ({
      fromBlock: this.data.block,
      toBlock: e.block,
      epoch,
      seq,
      values: Float64Array.from(e.localRows, (r) => own[r]!),
    }));
  }

  /** Stores the halo of one exchange; returns what is wrong with the parts, or null. */
  importParts(parts: readonly HaloPart[], epoch: number, seq: number): string | null {
    if (parts.length !== this.sources.length)
      return `expected ${this.sources.length} halo parts, got ${parts.length}`;
    for (const src of this.sources) {
      const part = parts.find((p) => p.fromBlock === src.block);
      if (part === undefined) return `no halo part from block ${src.block}`;
      if (part.toBlock !== this.data.block || part.epoch !== epoch || part.seq !== seq) {
        return `halo part from block ${src.block} is for block ${part.toBlock}, epoch ${part.epoch}, seq ${part.seq}`;
      }
      if (part.values.length !== src.count) {
        return `halo part from block ${src.block} has ${part.values.length} values, expected ${src.count}`;
      }
      this.ext.set(part.values, this.rows + src.start);
    }
    return null;
  }

  /** out = A_I [own; halo] with the halo of the last importParts. */
  spmv(own: Float64Array, out: Float64Array): void {
    const { rowPtr, colIdx, values } = this.data;
    const ext = this.ext;
    ext.set(own);
    for (let i = 0; i < this.rows; i++) {
      let s = 0;
      for (let p = rowPtr[i]!; p < rowPtr[i + 1]!; p++) s += values[p]! * ext[colIdx[p]!]!;
      out[i] = s;
    }
  }
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** IC(0)/ILU(0) of A_II when it exists, else Jacobi on it (the name says which one is used). */
function buildBlockPreconditioner(d: BlockData): Preconditioner {
  const aii = diagonalBlock(d);
  if (d.preconditioner === "ic0") return ic0Preconditioner(aii) ?? jacobiPreconditioner(aii);
  if (d.preconditioner === "ilu0") return ilu0Preconditioner(aii) ?? jacobiPreconditioner(aii);
  return jacobiPreconditioner(aii);
}
