import { flip, pushDegreeList, removeFromDegreeList } from "./state.ts";
import type { AmdState } from "./state.ts";

/** The new element L_k: its variables sit in iw[pk1..pk2); dk = Σ nv over them (its external degree). */
export interface PivotElement {
  k: number;
  /** |E_k| before elimination: 0 means L_k can be built in place over k's own list. */
  elenk: number;
  /** Variables k stands for (grows with mass elimination). */
  nvk: number;
  pk1: number;
  pk2: number;
  dk: number;
}

/** Removes and returns a variable of least approximate degree (the "minimum degree" choice). */
export function selectPivot(s: AmdState): number {
  const { head, n } = s;
  while (s.mindeg < n && head[s.mindeg] === -1) s.mindeg++;
  const k = head[s.mindeg]!;
  if (k < 0) throw new Error(`AMD: no variable left at degree ≥ ${s.mindeg} with ${s.nel}/${n} eliminated`);
  removeFromDegreeList(s, k);
  return k;
}

/**
 * Garbage collection of iw: packs the live lists to the front. Each live object's first entry is swapped
 * for flip(object) so that one left-to-right scan finds where every list starts (cs_amd's trick: no
 * extra memory). If the packed lists still leave less than `need` free entries, iw grows.
 */
export function compact(s: AmdState, need: number): void {
  const { n, pe, len } = s;
  const iw = s.iw;
  for (let j = 0; j < n; j++) {
    const p = pe[j]!;
    if (p >= 0) {
      pe[j] = iw[p]!;
      iw[p] = flip(j);
    }
  }
  let q = 0;
  for (let p = 0; p < s.pfree;) {
    const j = flip(iw[p++]!);
    if (j < 0) continue;
    iw[q] = pe[j]!;
    pe[j] = q++;
    for (let t = 0; t < len[j]! - 1; t++) iw[q++] = iw[p++]!;
  }
  s.pfree = q;
  s.stats.compactions++;
  if (q + need >= iw.length) {
    const grown = new Int32Array(Math.max(q + need + 1, Math.ceil(1.5 * iw.length)));
    grown.set(iw.subarray(0, q));
    s.iw = grown;
    s.stats.workspaceGrowths++;
  }
}

/**
 * Forms L_k = (A_k ∪ ⋃_{e ∈ E_k} L_e) \ {k}: the variables k is connected to through its own list and the
 * elements it touches. Each such variable leaves its degree list (its degree changes) and is flagged by a
 * negative nv; each element of E_k is absorbed into k, which is what keeps the quotient graph small.
 */
export function constructElement(s: AmdState, k: number): PivotElement {
  const elenk = s.elen[k]!;
  const nvk = s.nv[k]!;
  s.nel += nvk;
  // L_k needs at most degree(k) new entries; collect garbage (or grow) when they may not fit.
  if (elenk > 0 && s.pfree + s.mindeg >= s.iw.length) compact(s, s.mindeg);
  const { pe, len, nv, w } = s;
  const iw = s.iw;
  let dk = 0;
  nv[k] = -nvk;
  let p = pe[k]!;
  const pk1 = elenk === 0 ? p : s.pfree;
  let pk2 = pk1;
  for (let k1 = 1; k1 <= elenk + 1; k1++) {
    let e: number;
    let pj: number;
    let ln: number;
    if (k1 > elenk) {
      e = k; // finally the variables of k itself
      pj = p;
      ln = len[k]! - elenk;
    } else {
      e = iw[p++]!;
      pj = pe[e]!;
      ln = len[e]!;
    }
    for (let k2 = 1; k2 <= ln; k2++) {
      const i = iw[pj++]!;
      const nvi = nv[i]!;
      if (nvi <= 0) continue; // dead, or already in L_k
      dk += nvi;
      nv[i] = -nvi;
      iw[pk2++] = i;
      removeFromDegreeList(s, i);
    }
    if (e !== k) {
      pe[e] = flip(k); // e ⊆ L_k: absorb it
      w[e] = 0;
    }
  }
  if (elenk !== 0) s.pfree = pk2;
  s.degree[k] = dk;
  pe[k] = pk1;
  len[k] = pk2 - pk1;
  s.elen[k] = -2;
  s.stats.elements++;
  return { k, elenk, nvk, pk1, pk2, dk };
}

/**
 * Puts the surviving variables of L_k back in the degree lists with their new external degree
 * d = min(deg_i + |L_k \ i|, n − nel − |i|) (an upper bound: nobody can have more neighbours than remain),
 * and shrinks L_k to its principal variables. An element with no variables left is a root.
 */
export function finalizeElement(s: AmdState, el: PivotElement): void {
  const { iw, nv, degree, n, pe, len, w } = s;
  const { k, pk1, pk2, dk } = el;
  let p = pk1;
  for (let pk = pk1; pk < pk2; pk++) {
    const i = iw[pk]!;
    const nvi = -nv[i]!;
    if (nvi <= 0) continue; // merged or mass-eliminated
    nv[i] = nvi;
    const d = Math.min(degree[i]! + dk - nvi, n - s.nel - nvi);
    pushDegreeList(s, i, d);
    s.mindeg = Math.min(s.mindeg, d);
    degree[i] = d;
    iw[p++] = i;
  }
  nv[k] = el.nvk;
  len[k] = p - pk1;
  if (len[k] === 0) {
    pe[k] = -1;
    w[k] = 0;
  }
  if (el.elenk !== 0) s.pfree = p;
}
