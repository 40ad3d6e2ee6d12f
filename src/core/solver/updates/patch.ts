import type { CsrMatrix } from "../../sparse/csr.ts";
import { nnzOf } from "../../sparse/csr.ts";
import { entryPosition } from "../../sparse/structure.ts";
import { SolverError } from "../errors.ts";

/** Change of one matrix entry: "set" (default) replaces a_ij, "add" adds to it. */
export interface EntryUpdate {
  row: number;
  col: number;
  value: number;
  mode?: "set" | "add";
}

/** Change of one right-hand-side entry. */
export interface RhsUpdate {
  index: number;
  value: number;
  mode?: "set" | "add";
}

export interface SystemUpdates {
  matrix?: readonly EntryUpdate[];
  rhs?: readonly RhsUpdate[];
}

export interface UpdatedSystem {
  a: CsrMatrix;
  b: Float64Array;
  /** True when some update hit an entry outside A's pattern and the CSR was rebuilt. */
  patternChanged: boolean;
  newEntries: number;
}

function apply(old: number, u: { value: number; mode?: "set" | "add" }): number {
  return u.mode === "add" ? old + u.value : u.value;
}

function checkIndex(what: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new SolverError("update_index_out_of_range", `${what} ${i} out of range [0, ${n})`);
}

/**
 * Applies updates to copies of A and b (the inputs are not modified; copying values is O(nnz), small next
 * to a solve). Entries already in the pattern are changed in place in the copy; an entry outside the
 * pattern makes us rebuild the CSR with the new entries merged in (O(nnz + k log k)) — simpler for callers
 * than refusing, and the rebuilt matrix keeps all CSR invariants (so inserting entries is supported, for a
 * finished and for a running solve alike). Setting an entry to 0 keeps it as an
 * explicit zero (the pattern never shrinks). Updates apply in order; later ones see earlier ones.
 */
export function applyUpdates(a: CsrMatrix, b: Float64Array, updates: SystemUpdates): UpdatedSystem {
  const n = a.rows;
  const values = a.values.slice();
  const nb = b.slice();
  const extra = new Map<number, number>(); // key row*cols+col → value, for entries outside the pattern
  const view: CsrMatrix = { ...a, values };
  for (const u of updates.matrix ?? []) {
    checkIndex("row", u.row, n);
    checkIndex("col", u.col, a.cols);
    if (!Number.isFinite(u.value))
      throw new SolverError("update_non_finite", `a(${u.row},${u.col}) value ${u.value} is not finite`);
    const p = entryPosition(view, u.row, u.col);
    if (p >= 0) values[p] = apply(values[p]!, u);
    else {
      const key = u.row * a.cols + u.col;
      extra.set(key, apply(extra.get(key) ?? 0, u));
    }
  }
  for (const u of updates.rhs ?? []) {
    checkIndex("rhs index", u.index, n);
    if (!Number.isFinite(u.value))
      throw new SolverError("update_non_finite", `b[${u.index}] value ${u.value} is not finite`);
    nb[u.index] = apply(nb[u.index]!, u);
    if (!Number.isFinite(nb[u.index]!))
      throw new SolverError("update_non_finite", `adding ${u.value} made b[${u.index}] non-finite`);
  }
  for (let k = 0; k < values.length; k++)
    if (!Number.isFinite(values[k]!))
      throw new SolverError("update_non_finite", 'an "add" update made a matrix value non-finite');
  for (const [key, v] of extra)
    if (!Number.isFinite(v))
      throw new SolverError(
        "update_non_finite",
        `updates made a(${Math.floor(key / a.cols)},${key % a.cols}) non-finite`,
      );
  if (extra.size === 0) return { a: view, b: nb, patternChanged: false, newEntries: 0 };

  const added = [...extra.entries()].sort((p, q) => p[0] - q[0]);
  const nnz = nnzOf(a) + added.length;
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  let w = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    let p = a.rowPtr[i]!;
    const end = a.rowPtr[i + 1]!;
    for (;;) {
      const nextNew =
        e < added.length && Math.floor(added[e]![0] / a.cols) === i ? added[e]![0] % a.cols : Infinity;
      const nextOld = p < end ? a.colIdx[p]! : Infinity;
      if (nextNew === Infinity && nextOld === Infinity) break;
      if (nextNew < nextOld) {
        colIdx[w] = nextNew;
        vals[w++] = added[e++]![1];
      } else {
        colIdx[w] = nextOld;
        vals[w++] = values[p++]!;
      }
    }
    rowPtr[i + 1] = w;
  }
  return {
    a: { rows: n, cols: a.cols, rowPtr, colIdx, values: vals },
    b: nb,
    patternChanged: true,
    newEntries: added.length,
  };
}
