import type { Graph } from "../../sparse/structure.ts";

/**
 * Reverse Cuthill–McKee ordering of a symmetric graph (use symmetricGraph(A) for A + Aᵀ): breadth-first
 * from a pseudo-peripheral node of each connected component (George–Liu), neighbours in increasing degree,
 * order reversed. It keeps the factor inside a narrow envelope, which bounds the fill of an LU whose
 * pivots stay near the diagonal. Returns perm with perm[newIndex] = oldIndex.
 */
export function reverseCuthillMcKee(g: Graph): Int32Array {
  const { n, ptr, idx } = g;
  const degree = new Int32Array(n);
  for (let i = 0; i < n; i++) degree[i] = ptr[i + 1]! - ptr[i]!;
  const visited = new Uint8Array(n);
  const stamp = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const order = new Int32Array(n);
  let stampId = 0;
  let head = 0;

  /** BFS over unvisited nodes from s: depth of the level structure and a min-degree node of the last level. */
  const levels = (s: number): { depth: number; far: number } => {
    stampId++;
    queue[0] = s;
    stamp[s] = stampId;
    let qh = 0;
    let qt = 1;
    let depth = 0;
    let levelStart = 0;
    while (qh < qt) {
      const levelEnd = qt;
      for (; qh < levelEnd; qh++) {
        const v = queue[qh]!;
        for (let k = ptr[v]!; k < ptr[v + 1]!; k++) {
          const w = idx[k]!;
          if (stamp[w] !== stampId && visited[w] === 0) {
            stamp[w] = stampId;
            queue[qt++] = w;
          }
        }
      }
      if (qt > levelEnd) {
        depth++;
        levelStart = levelEnd;
      }
    }
    let far = queue[levelStart]!;
    for (let p = levelStart; p < qt; p++) if (degree[queue[p]!]! < degree[far]!) far = queue[p]!;
    return { depth, far };
  };

  const scratch: number[] = [];
  for (let seed = 0; seed < n; seed++) {
    if (visited[seed] !== 0) continue;
    // Pseudo-peripheral start: hop to a far min-degree node while the eccentricity grows.
    let start = seed;
    let { depth, far } = levels(start);
    for (let hop = 0; hop < 8; hop++) {
      const next = levels(far);
      if (next.depth <= depth) break;
      start = far;
      depth = next.depth;
      far = next.far;
    }
    let tail = head;
    order[tail++] = start;
    visited[start] = 1;
    for (; head < tail; head++) {
      const v = order[head]!;
      scratch.length = 0;
      for (let k = ptr[v]!; k < ptr[v + 1]!; k++) {
        const w = idx[k]!;
        if (visited[w] === 0) {
          visited[w] = 1;
          scratch.push(w);
        }
      }
      scratch.sort((p, q) => degree[p]! - degree[q]!);
      for (const w of scratch) order[tail++] = w;
    }
  }
  order.reverse();
  return order;
}

/** Inverse permutation: inv[perm[k]] = k. */
export function invertPermutation(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  for (let k = 0; k < perm.length; k++) inv[perm[k]!] = k;
  return inv;
}

/**
 * Envelope (profile) of the symmetric graph under `perm`: Σ_k (k − min neighbour index ≤ k). LU without
 * pivoting fills exactly the envelope of each triangle, so 2·profile + n estimates nnz(L) + nnz(U).
 */
export function envelopeSize(g: Graph, perm: Int32Array): number {
  const inv = invertPermutation(perm);
  let profile = 0;
  for (let k = 0; k < g.n; k++) {
    const v = perm[k]!;
    let first = k;
    for (let p = g.ptr[v]!; p < g.ptr[v + 1]!; p++) first = Math.min(first, inv[g.idx[p]!]!);
    profile += k - first;
  }
  return profile;
}
