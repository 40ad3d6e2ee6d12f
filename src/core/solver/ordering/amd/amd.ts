import type { CsrMatrix } from "../../../sparse/csr.ts";
import { computeSetDifferences, updateDegrees } from "./degree.ts";
import { constructElement, finalizeElement, selectPivot } from "./element.ts";
import { assemblyTreePostorder } from "./postorder.ts";
import { createAmdState, denseThreshold, initDegreeLists } from "./state.ts";
import type { AmdState, AmdStats } from "./state.ts";
import { detectSupervariables } from "./supervariable.ts";
import { symmetricGraph } from "../../../sparse/structure.ts";
import type { Graph } from "../../../sparse/structure.ts";
import { SolverError } from "../../errors.ts";

export type { AmdStats } from "./state.ts";

export interface AmdOptions {
  /** Dense threshold α: variables of degree > max(16, α√n) are ordered last. Default 10; < 0 disables. */
  denseAlpha?: number;
  /**
   * Initial size of the quotient graph's storage (default 1.2·nnz + 2n, as cs_amd). A smaller one only
   * costs more garbage collections and growth; tests use it to exercise those paths.
   */
  workspaceEntries?: number;
}

export interface AmdResult {
  /** perm[newIndex] = oldIndex. */
  perm: Int32Array;
  stats: AmdStats;
}

export const DEFAULT_DENSE_ALPHA = 10;

/**
 * Approximate minimum degree ordering of the pattern of A + Aᵀ (diagonal ignored), for a Cholesky-like or
 * diagonal-preferring LU factorization: minimum degree keeps fill low, unlike bandwidth orderings (RCM),
 * which only keep it inside an envelope. See state.ts for the algorithm's data structure.
 */
export function amdOrder(a: CsrMatrix, options: AmdOptions = {}): AmdResult {
  if (a.rows !== a.cols) {
    throw new SolverError("not_square", `AMD orders square matrices; got ${a.rows}×${a.cols}`);
  }
  return amdOrderGraph(symmetricGraph(a), options);
}

/**
 * AMD of a symmetric graph (both directions of every edge stored; self-loops ignored), e.g. from
 * symmetricGraph. Throws invalid_option for a malformed or non-symmetric graph.
 */
export function amdOrderGraph(g: Graph, options: AmdOptions = {}): AmdResult {
  checkSymmetricGraph(g);
  const n = g.n;
  const s = createAmdState(g, options.workspaceEntries);
  initDegreeLists(s, denseThreshold(n, options.denseAlpha ?? DEFAULT_DENSE_ALPHA));
  while (s.nel < n) eliminateOnePivot(s);
  return { perm: assemblyTreePostorder(s), stats: s.stats };
}

/** One step of AMD: pick the least-degree supervariable, form its element, update the neighbours. */
function eliminateOnePivot(s: AmdState): void {
  const k = selectPivot(s);
  const el = constructElement(s, k);
  computeSetDifferences(s, el);
  updateDegrees(s, el);
  detectSupervariables(s, el);
  finalizeElement(s, el);
}

/**
 * The elimination relies on symmetry: when i is in L_k, k must reach i through i's own lists. A one-sided
 * edge would silently corrupt the quotient graph, so it is rejected up front (O(nnz) time and memory).
 */
function checkSymmetricGraph(g: Graph): void {
  const { n, ptr, idx } = g;
  const bad = (why: string): never => {
    throw new SolverError("invalid_option", `AMD needs a symmetric adjacency graph: ${why}`);
  };
  if (!Number.isInteger(n) || n < 0) bad(`n = ${n}`);
  if (ptr.length !== n + 1 || ptr[0] !== 0) bad(`ptr must have n + 1 = ${n + 1} entries starting at 0`);
  if (ptr[n]! > idx.length) bad(`ptr[n] = ${ptr[n]} exceeds idx.length = ${idx.length}`);
  for (let i = 0; i < n; i++) {
    if (ptr[i + 1]! < ptr[i]!) bad(`ptr decreases at ${i}`);
    for (let p = ptr[i]!; p < ptr[i + 1]!; p++) {
      const j = idx[p]!;
      if (!(Number.isInteger(j) && j >= 0 && j < n)) bad(`index ${j} in row ${i} is outside [0, ${n})`);
    }
  }
  // The reverse edges (the transpose's lists), then each node's two neighbour sets must be equal.
  const tPtr = new Int32Array(n + 1);
  for (let p = 0; p < ptr[n]!; p++) tPtr[idx[p]! + 1]!++;
  for (let i = 0; i < n; i++) tPtr[i + 1] = tPtr[i + 1]! + tPtr[i]!;
  const fillAt = tPtr.slice(0, n);
  const tIdx = new Int32Array(ptr[n]!);
  for (let i = 0; i < n; i++) for (let p = ptr[i]!; p < ptr[i + 1]!; p++) tIdx[fillAt[idx[p]!]!++] = i;
  const seenOut = new Int32Array(n).fill(-1);
  const seenIn = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let p = ptr[i]!; p < ptr[i + 1]!; p++) seenOut[idx[p]!] = i;
    for (let p = tPtr[i]!; p < tPtr[i + 1]!; p++) seenIn[tIdx[p]!] = i;
    for (let p = ptr[i]!; p < ptr[i + 1]!; p++) {
      if (seenIn[idx[p]!] !== i) bad(`edge ${i}→${idx[p]} has no reverse edge`);
    }
    for (let p = tPtr[i]!; p < tPtr[i + 1]!; p++) {
      if (seenOut[tIdx[p]!] !== i) bad(`edge ${tIdx[p]}→${i} has no reverse edge`);
    }
  }
}
