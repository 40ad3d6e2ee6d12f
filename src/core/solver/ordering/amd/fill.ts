import type { Graph } from "../../../sparse/structure.ts";

/**
 * nnz of the Cholesky factor L (diagonal included) of the symmetric pattern g + I permuted by perm
 * (perm[newIndex] = oldIndex), or Infinity as soon as it passes `limit`. An LU that keeps its pivots on the
 * diagonal of that order has the same pattern in L and Uᵀ, so this is the fill estimate the direct solver
 * checks before factorising (pivoting off the diagonal can change the real count either way).
 *
 * Row k of L is the set of nodes reached from the entries of row k of the lower triangle by walking up the
 * elimination tree until a node already seen for row k (Liu; Davis's LDL symbolic / cs_ereach). The tree
 * is built during the same sweep: a node's parent is the first later row that reaches it. O(nnz(L)) time.
 */
export function choleskyFillCount(g: Graph, perm: Int32Array, limit = Infinity): number {
  const { n, ptr, idx } = g;
  const inv = new Int32Array(n);
  for (let k = 0; k < n; k++) inv[perm[k]!] = k;
  const parent = new Int32Array(n).fill(-1);
  const flag = new Int32Array(n).fill(-1);
  let count = n;
  for (let k = 0; k < n; k++) {
    flag[k] = k;
    const v = perm[k]!;
    for (let p = ptr[v]!; p < ptr[v + 1]!; p++) {
      let i = inv[idx[p]!]!;
      if (i >= k) continue; // upper triangle: handled from the other side
      for (; flag[i] !== k; i = parent[i]!) {
        if (parent[i] === -1) parent[i] = k;
        flag[i] = k;
        count++;
      }
    }
    if (count > limit) return Infinity;
  }
  return count;
}
