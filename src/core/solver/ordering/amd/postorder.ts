import { flip } from "./state.ts";
import type { AmdState } from "./state.ts";

/**
 * The ordering: a depth-first postorder of the assembly tree (pe holds flipped parents once elimination is
 * over). Postordering keeps each subtree contiguous, which changes no fill count but gives the factor
 * dense, contiguous column blocks; merged, mass-eliminated and dense variables follow, as children, right
 * before the element that eliminated them. Returns perm with perm[newIndex] = oldIndex.
 */
export function assemblyTreePostorder(s: AmdState): Int32Array {
  const { n, pe, nv } = s;
  const parent = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) parent[i] = flip(pe[i]!);
  parent[n] = -1;
  // Children lists (head/next), variables before elements, each in increasing index order.
  const head = new Int32Array(n + 1).fill(-1);
  const next = new Int32Array(n + 1).fill(-1);
  for (let j = n; j >= 0; j--) {
    if (nv[j]! > 0) continue; // an element: linked below
    const p = parent[j]!;
    if (p < 0) throw new Error(`AMD: eliminated variable ${j} has no parent in the assembly tree`);
    next[j] = head[p]!;
    head[p] = j;
  }
  for (let e = n; e >= 0; e--) {
    if (nv[e]! <= 0) continue;
    const p = parent[e]!;
    if (p < -1) throw new Error(`AMD: element ${e} was never absorbed nor made a root`);
    if (p !== -1) {
      next[e] = head[p]!;
      head[p] = e;
    }
  }
  const post = new Int32Array(n + 1);
  const stack = new Int32Array(n + 1);
  let k = 0;
  for (let root = 0; root <= n; root++) {
    if (parent[root] === -1) k = depthFirst(root, k, head, next, post, stack);
  }
  if (k !== n + 1) throw new Error(`AMD: assembly tree postorder reached ${k} of ${n + 1} nodes`);
  // Drop the virtual dense element n.
  const perm = new Int32Array(n);
  let q = 0;
  for (let t = 0; t <= n; t++) if (post[t] !== n) perm[q++] = post[t]!;
  return perm;
}

/** Non-recursive postorder of the subtree at `root` (cs_tdfs); consumes the head lists. */
function depthFirst(
  root: number,
  k: number,
  head: Int32Array,
  next: Int32Array,
  post: Int32Array,
  stack: Int32Array,
): number {
  let top = 0;
  stack[0] = root;
  while (top >= 0) {
    const p = stack[top]!;
    const i = head[p]!;
    if (i === -1) {
      top--;
      post[k++] = p;
    } else {
      head[p] = next[i]!;
      stack[++top] = i;
    }
  }
  return k;
}
