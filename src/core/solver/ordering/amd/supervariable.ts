import type { PivotElement } from "./element.ts";
import { flip } from "./state.ts";
import type { AmdState } from "./state.ts";

/**
 * Merges indistinguishable variables of L_k (same elements and same variable neighbours) into one
 * supervariable: they will be eliminated together, so one degree update then serves all of them. Only
 * variables of L_k can have become indistinguishable, and only those with equal hashes are compared; the
 * comparison marks i's list in w and checks j's entries against the mark. Entry 0 of every list is k
 * (put there by the degree update), so comparisons start at entry 1.
 */
export function detectSupervariables(s: AmdState, el: PivotElement): void {
  const { iw, nv, last, hhead } = s;
  for (let pk = el.pk1; pk < el.pk2; pk++) {
    const first = iw[pk]!;
    if (nv[first]! >= 0) continue; // merged or mass-eliminated already
    const bucket = last[first]!;
    let i = hhead[bucket]!;
    hhead[bucket] = -1; // the bucket is consumed whole here
    for (; i !== -1 && s.next[i] !== -1; i = s.next[i]!, s.mark++) {
      mergeIntoFrom(s, i);
    }
  }
}

/** Compares i with every later variable j of its hash bucket and absorbs the identical ones into i. */
function mergeIntoFrom(s: AmdState, i: number): void {
  const { iw, pe, len, elen, nv, w, next } = s;
  const mark = s.mark;
  const ln = len[i]!;
  const eln = elen[i]!;
  const pi = pe[i]!;
  for (let p = pi + 1; p < pi + ln; p++) w[iw[p]!] = mark;
  let jlast = i;
  for (let j = next[i]!; j !== -1;) {
    let same = len[j] === ln && elen[j] === eln;
    const pj = pe[j]!;
    for (let p = pj + 1; same && p < pj + ln; p++) if (w[iw[p]!] !== mark) same = false;
    if (same) {
      pe[j] = flip(i);
      nv[i] = nv[i]! + nv[j]!; // both negative while in L_k: the sum stays negative
      s.stats.supervariablesMerged++;
      nv[j] = 0;
      elen[j] = -1;
      j = next[j]!;
      next[jlast] = j;
    } else {
      jlast = j;
      j = next[j]!;
    }
  }
}
