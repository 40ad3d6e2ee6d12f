import { MAX_BLOCKS, type DistributedMethod, type HaloPart } from "../protocol/distributed.ts";

/**
 * The coordinator's copy of what each block told each neighbour about its x. With coordinator halo
 * routing every halo part passes through the requester, and the scalars are its own, so it can replay the
 * x-update on the halo entries alone, with the very arithmetic the worker uses (same operations, same order:
 * bit-identical for an honest worker):
 *   pcg:      halo seq ≥ 1 carries u; scalars [α, β]: p = u + βp, x = x + αp
 *   bicgstab: odd seq carries p̂, even seq ≥ 2 carries ŝ; phase 0 gives α, phase 1 [ω, β]: x = x + αp̂ + ωŝ
 * Seq 0 of every epoch carries x itself. Cost: O(halo entries) per iteration, nothing next to the SpMVs.
 *
 * It serves the block audit (audit.ts): a block's checkpoint x must agree with what its own halos
 * implied (else it lied to its neighbours or about its x), and a block's own rows are checked against the
 * halo values it was actually sent (so a neighbour's lie is never blamed on it).
 */
interface PartMirror {
  x: Float64Array;
  /** pcg: p; bicgstab: unused. */
  p: Float64Array;
  /** pcg: the last u; bicgstab: the last p̂. */
  a: Float64Array;
  /** bicgstab: the last ŝ. */
  b: Float64Array;
}

export class HaloMirror {
  readonly #method: DistributedMethod;
  /** Keyed from · MAX_BLOCKS + to. */
  #parts = new Map<number, PartMirror>();
  #alpha = 0;

  constructor(method: DistributedMethod) {
    this.#method = method;
  }

  /** A new epoch: nothing is known until its seq-0 halo of x. */
  reset(): void {
    this.#parts = new Map();
    this.#alpha = 0;
  }

  /** The parts of exchange `seq`, as routed. */
  routed(seq: number, parts: readonly HaloPart[]): void {
    for (const part of parts) {
      const key = part.fromBlock * MAX_BLOCKS + part.toBlock;
      if (seq === 0) {
        const n = part.values.length;
        this.#parts.set(key, {
          x: part.values.slice(),
          p: new Float64Array(n),
          a: new Float64Array(n),
          b: new Float64Array(n),
        });
        continue;
      }
      const m = this.#parts.get(key);
      if (m === undefined || m.x.length !== part.values.length) continue;
      if (this.#method === "pcg" || seq % 2 === 1) m.a.set(part.values);
      else m.b.set(part.values);
    }
  }

  /** The scalars the coordinator broadcast for `phase`. */
  scalars(phase: number, values: readonly number[]): void {
    if (this.#method === "bicgstab" && phase === 0) {
      this.#alpha = values[0]!;
      return;
    }
    for (const m of this.#parts.values()) {
      const { x, p, a, b } = m;
      if (this.#method === "pcg") {
        const [alpha, beta] = values as [number, number];
        for (let i = 0; i < x.length; i++) {
          const pi = a[i]! + beta * p[i]!;
          p[i] = pi;
          x[i] = x[i]! + alpha * pi;
        }
      } else {
        const alpha = this.#alpha;
        const omega = values[0]!;
        for (let i = 0; i < x.length; i++) x[i] = x[i]! + alpha * a[i]! + omega * b[i]!;
      }
    }
  }

  /** x at the rows `from` exports to `to`, as its halos implied; undefined before this epoch's seq 0. */
  x(from: number, to: number): Float64Array | undefined {
    return this.#parts.get(from * MAX_BLOCKS + to)?.x;
  }
}
