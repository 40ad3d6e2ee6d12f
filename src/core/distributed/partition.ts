import type { CsrMatrix } from "../sparse/csr.ts";
import { JobError } from "../protocol/job-errors.ts";

/**
 * Row partition of a square matrix for the distributed solve of one large system across K volunteers.
 *
 * The plan (the distributed iteration itself comes with the distributed-solve runner):
 * block-Jacobi-preconditioned CG over contiguous row blocks, coordinated by the requester.
 *  - Volunteer I holds its rows A_I (all their columns, renumbered local + halo), b_I, and the CG vectors
 *    x_I, r_I, z_I, p_I, q_I for its rows only; its preconditioner is M_I = IC(0) (or an exact local solve)
 *    of the diagonal block A_II. Block-Jacobi needs no communication to apply: M = diag(M_1 … M_K) is SPD
 *    whenever each M_I is, so PCG stays valid; its price is more iterations as K grows (the coupling
 *    between blocks is left to the Krylov iteration), which is why blocks are contiguous and balanced.
 *  - Per iteration: (1) halo exchange of p: each volunteer sends the entries of p_I that other blocks
 *    reference (`exports`) to the requester, which forwards them (`haloCols` / `haloOwners` on the
 *    receiving side); (2) q_I = A_I p, local partial p_I·q_I → requester sums → α = ρ / Σ (first scalar
 *    reduction); (3) x_I += α p_I, r_I −= α q_I, z_I = M_I⁻¹ r_I, local partials r_I·z_I and r_I·r_I →
 *    requester sums → β and the convergence test (second reduction); (4) p_I = z_I + β p_I.
 *    So per iteration only halo values of p and two scalars per volunteer cross the network.
 *  - Why through the requester, not volunteer to volunteer: K data channels instead of K², and the
 *    requester already holds the job state, so when a volunteer leaves, its block moves to another volunteer
 *    (the scheduler reissues the block unit) and everybody restarts CG from the last checkpointed iterate
 *    (r = b − A x recomputed): a consistent state, at the cost of losing the Krylov history.
 *  - Why CG and not asynchronous block-Jacobi/Schwarz: the latter converges only for (block) diagonally
 *    dominant systems; the test systems (bcsstk13, 2D Poisson) are SPD but not dominant enough.
 *    Nonsymmetric systems would use block-Jacobi-preconditioned BiCGSTAB (two halo exchanges, four
 *    reductions per iteration).
 *  - The final x is assembled by the requester and certified like any solve (verify.ts: one SpMV).
 */

export interface HaloExport {
  /** The block that needs the values. */
  readonly block: number;
  /** Global indices of this block's rows (= entries of p) it needs, ascending. */
  readonly rows: Int32Array;
}

export interface RowBlock {
  readonly index: number;
  readonly rowStart: number;
  /** Exclusive. */
  readonly rowEnd: number;
  readonly nnz: number;
  /** Columns outside [rowStart, rowEnd) that this block's rows reference, ascending. */
  readonly haloCols: Int32Array;
  /** haloOwners[i] is the block whose rows include haloCols[i]. */
  readonly haloOwners: Int32Array;
  /** What this block must send to each other block per halo exchange (blocks in ascending order). */
  readonly exports: readonly HaloExport[];
}

export interface RowPartition {
  readonly rows: number;
  readonly blocks: readonly RowBlock[];
  /** Heaviest block's weight / mean block weight (1 = perfect balance). */
  readonly imbalance: number;
}

/**
 * Splits rows into k contiguous blocks balanced by work: row i weighs nnz_i + 1 (its SpMV entries plus
 * the vector updates every row does). Cuts go where the prefix weight is nearest to j·W/k, so every block
 * is within one row's weight of the ideal (unless k is close to n and the one-row minimum moves a cut). Each block gets at least one row. O(nnz + k log n).
 */
export function partitionRows(a: CsrMatrix, k: number): RowPartition {
  const n = a.rows;
  if (a.rows !== a.cols) {
    throw new JobError(
      "invalid_partition",
      `a distributed solve needs a square matrix, got ${a.rows}×${a.cols}`,
    );
  }
  if (!Number.isInteger(k) || k < 1) throw new JobError("invalid_partition", `block count ${k} must be ≥ 1`);
  if (k > n) throw new JobError("invalid_partition", `cannot split ${n} rows into ${k} non-empty blocks`);

  // prefix[i] = weight of rows [0, i)
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + (a.rowPtr[i + 1]! - a.rowPtr[i]!) + 1;
  const total = prefix[n]!;

  const starts = new Int32Array(k + 1);
  starts[k] = n;
  for (let j = 1; j < k; j++) {
    const target = (j * total) / k;
    // smallest i with prefix[i] ≥ target
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prefix[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    let cut = lo > 0 && target - prefix[lo - 1]! < prefix[lo]! - target ? lo - 1 : lo;
    // Leave at least one row for this block and for each block after it.
    cut = Math.min(Math.max(cut, starts[j - 1]! + 1), n - (k - j));
    starts[j] = cut;
  }

  const ownerOf = (col: number): number => {
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= col) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const seen = new Int32Array(n).fill(-1);
  const imports: { cols: Int32Array; owners: Int32Array }[] = [];
  const exportsTo: Map<number, number[]>[] = Array.from({ length: k }, () => new Map());
  let heaviest = 0;
  for (let j = 0; j < k; j++) {
    const r0 = starts[j]!;
    const r1 = starts[j + 1]!;
    heaviest = Math.max(heaviest, prefix[r1]! - prefix[r0]!);
    const halo: number[] = [];
    for (let p = a.rowPtr[r0]!; p < a.rowPtr[r1]!; p++) {
      const c = a.colIdx[p]!;
      if ((c < r0 || c >= r1) && seen[c] !== j) {
        seen[c] = j;
        halo.push(c);
      }
    }
    const cols = Int32Array.from(halo).sort();
    const owners = cols.map(ownerOf);
    imports.push({ cols, owners });
    cols.forEach((c, i) => {
      const owner = owners[i]!;
      const list = exportsTo[owner]!.get(j);
      if (list === undefined) exportsTo[owner]!.set(j, [c]);
      else list.push(c);
    });
  }

  const blocks: RowBlock[] = imports.map((imp, j) => ({
    index: j,
    rowStart: starts[j]!,
    rowEnd: starts[j + 1]!,
    nnz: a.rowPtr[starts[j + 1]!]! - a.rowPtr[starts[j]!]!,
    haloCols: imp.cols,
    haloOwners: imp.owners,
    exports: [...exportsTo[j]!.entries()]
      .sort(([p], [q]) => p - q)
      .map(([block, rows]) => ({ block, rows: Int32Array.from(rows) })),
  }));
  return { rows: n, blocks, imbalance: heaviest / (total / k) };
}
