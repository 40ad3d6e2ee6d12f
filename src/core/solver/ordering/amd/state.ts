import type { Graph } from "../../../sparse/structure.ts";

/**
 * Workspace of the approximate minimum degree ordering (Amestoy, Davis & Duff, SIAM J. Matrix Anal. Appl.
 * 17(4), 1996; the data layout follows CSparse's cs_amd, T. Davis, "Direct Methods for Sparse Linear
 * Systems", SIAM 2006, ch. 7). The quotient graph keeps, for every object, one list in `iw`:
 *  - a live variable i: its elements E_i (the first elen[i] entries), then its variable neighbours A_i;
 *  - a live element e: its variables L_e.
 * Eliminating a pivot turns it into an element whose list replaces the lists it absorbed, so the graph never
 * needs more memory than the original pattern plus elbow room, however much fill the factor would have.
 *
 * State encoding (as in cs_amd, so the code can be checked line by line against the book):
 *  - pe[i] ≥ 0: start of i's list in iw; pe[i] = flip(p): i was absorbed into p (a parent in the assembly
 *    tree); pe[i] = -1: a root.
 *  - nv[i] > 0: i is a principal supervariable of nv[i] variables (or an element: then nv counts the
 *    variables it eliminated); nv[i] = 0: i was merged into another supervariable or is dead; nv[i] < 0:
 *    i is in the pivot element L_k being built.
 *  - elen[i] ≥ 0: i is a variable with elen[i] elements; -1: a dead variable; -2: an element.
 *  - w[e] for an element: 0 if dead; otherwise a mark, or |L_e \ L_k| + mark while degrees are updated.
 * Node n is a virtual element: the dense variables, removed up front, hang from it and are ordered last.
 */
export class AmdState {
  readonly n: number;
  /** Start of each object's list in iw, or flip(parent) once absorbed, or -1 for a root. */
  readonly pe: Int32Array;
  /** The quotient graph's lists, with elbow room at the end (grown if ever short). */
  iw: Int32Array;
  /** iw[pfree..] is free. */
  pfree: number;
  readonly len: Int32Array;
  readonly nv: Int32Array;
  /** Degree lists (doubly linked through next/last); also hash buckets during supervariable detection. */
  readonly next: Int32Array;
  readonly last: Int32Array;
  readonly head: Int32Array;
  readonly hhead: Int32Array;
  readonly elen: Int32Array;
  /** Approximate external degree of a variable; |L_e| of an element. */
  readonly degree: Int32Array;
  readonly w: Int32Array;
  /** Variables eliminated so far (pivots, mass-eliminated, merged, dense and empty ones). */
  nel = 0;
  /** Lowest degree list that may be non-empty. */
  mindeg = 0;
  mark = 0;
  /** Largest |L_k| so far: w values stay below mark + lemax, which bounds when w must be cleared. */
  lemax = 0;
  readonly stats: AmdStats = {
    dense: 0,
    empty: 0,
    elements: 0,
    massEliminated: 0,
    supervariablesMerged: 0,
    aggressiveAbsorptions: 0,
    compactions: 0,
    workspaceGrowths: 0,
  };

  constructor(n: number, capacity: number) {
    this.n = n;
    this.pe = new Int32Array(n + 1);
    this.iw = new Int32Array(capacity);
    this.pfree = 0;
    this.len = new Int32Array(n + 1);
    this.nv = new Int32Array(n + 1);
    this.next = new Int32Array(n + 1);
    this.last = new Int32Array(n + 1);
    this.head = new Int32Array(n + 1);
    this.hhead = new Int32Array(n + 1);
    this.elen = new Int32Array(n + 1);
    this.degree = new Int32Array(n + 1);
    this.w = new Int32Array(n + 1);
  }
}

/** What the ordering did, for reports and tests (counts of variables unless said otherwise). */
export interface AmdStats {
  /** Variables whose degree exceeded the dense threshold: removed up front and ordered last. */
  dense: number;
  /** Variables with no off-diagonal entries at all. */
  empty: number;
  /** Pivots chosen (elements formed); each eliminates a whole supervariable. */
  elements: number;
  /** Variables eliminated with a pivot because all their neighbours were in its element. */
  massEliminated: number;
  /** Supervariables absorbed into an indistinguishable one (one per merge). */
  supervariablesMerged: number;
  /** Elements absorbed because they were a subset of the new element (not only of a neighbour of it). */
  aggressiveAbsorptions: number;
  /** Garbage collections of the quotient graph's storage. */
  compactions: number;
  /** Times the storage had to grow after a garbage collection (never with the default size, in theory). */
  workspaceGrowths: number;
}

/** Parent pointers of absorbed objects are stored flipped (-i - 2) so they cannot be confused with list starts. */
export function flip(i: number): number {
  return -i - 2;
}

/** Keeps w values in Int32 range with room for mark + lemax (cs_wclear's overflow test, without overflow). */
const W_LIMIT = 2 ** 30;

/**
 * A fresh mark larger than every live w entry. Resetting every live entry to 1 is O(n), so it is done only
 * when the marks run out, which makes the amortised cost per pivot O(1) (cs_wclear).
 */
export function clearMarks(s: AmdState, mark: number): number {
  if (mark >= 2 && mark + s.lemax < W_LIMIT) return mark;
  const w = s.w;
  for (let k = 0; k < s.n; k++) if (w[k] !== 0) w[k] = 1;
  return 2;
}

/**
 * Dense threshold: cs_amd's max(16, α√n), capped at n − 2. A variable adjacent to nearly everything would
 * make every degree update touch it and its degree is meaningless for the choice, so it is removed and
 * ordered last. α < 0 disables the removal.
 */
export function denseThreshold(n: number, alpha: number): number {
  if (alpha < 0) return n;
  return Math.min(n - 2, Math.max(16, Math.floor(alpha * Math.sqrt(n))));
}

/**
 * Copies the graph (diagonal dropped) into the workspace with 20% + 2n elbow room (cs_amd's choice: enough
 * that garbage collection is rare; `workspaceEntries` overrides it, at least nnz + 1), and sets every
 * variable to an unmerged node of its initial degree.
 */
export function createAmdState(g: Graph, workspaceEntries?: number): AmdState {
  const { n, ptr, idx } = g;
  let cnz = 0;
  for (let i = 0; i < n; i++) {
    for (let p = ptr[i]!; p < ptr[i + 1]!; p++) if (idx[p] !== i) cnz++;
  }
  const capacity = workspaceEntries ?? cnz + Math.floor(cnz / 5) + 2 * n + 1;
  const s = new AmdState(n, Math.max(cnz + 1, capacity));
  const { pe, iw, len } = s;
  let q = 0;
  for (let i = 0; i < n; i++) {
    pe[i] = q;
    for (let p = ptr[i]!; p < ptr[i + 1]!; p++) if (idx[p] !== i) iw[q++] = idx[p]!;
    len[i] = q - pe[i]!;
  }
  s.pfree = q;
  s.head.fill(-1);
  s.last.fill(-1);
  s.next.fill(-1);
  s.hhead.fill(-1);
  s.nv.fill(1);
  s.w.fill(1);
  s.elen.fill(0);
  for (let i = 0; i < n; i++) s.degree[i] = len[i]!;
  s.mark = clearMarks(s, 0);
  // Node n: the dead element the dense variables are absorbed into; a root of the assembly tree.
  s.elen[n] = -2;
  pe[n] = -1;
  s.w[n] = 0;
  return s;
}

/** Inserts variable i at the head of degree list d. */
export function pushDegreeList(s: AmdState, i: number, d: number): void {
  const h = s.head[d]!;
  if (h !== -1) s.last[h] = i;
  s.next[i] = h;
  s.last[i] = -1;
  s.head[d] = i;
}

/** Unlinks variable i from the degree list it is in (its degree is degree[i]). */
export function removeFromDegreeList(s: AmdState, i: number): void {
  const { next, last } = s;
  const nx = next[i]!;
  const ls = last[i]!;
  if (nx !== -1) last[nx] = ls;
  if (ls !== -1) next[ls] = nx;
  else s.head[s.degree[i]!] = nx;
}

/**
 * Places every variable in its degree list, except empty ones (eliminated at once: nothing to fill) and
 * dense ones (absorbed into the virtual element n, hence ordered after everything else).
 */
export function initDegreeLists(s: AmdState, dense: number): void {
  const { n, degree, elen, pe, w, nv } = s;
  for (let i = 0; i < n; i++) {
    const d = degree[i]!;
    if (d === 0) {
      elen[i] = -2;
      s.nel++;
      pe[i] = -1;
      w[i] = 0;
      s.stats.empty++;
    } else if (d > dense) {
      nv[i] = 0;
      elen[i] = -1;
      s.nel++;
      pe[i] = flip(n);
      nv[n]!++;
      s.stats.dense++;
    } else {
      pushDegreeList(s, i, d);
    }
  }
}
