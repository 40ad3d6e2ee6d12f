import type { PivotElement } from "./element.ts";
import { clearMarks, flip } from "./state.ts";
import type { AmdState } from "./state.ts";

/**
 * Scan 1: for every element e adjacent to L_k, w[e] − mark becomes |L_e \ L_k| (counted in variables).
 * It starts at |L_e| the first time e is met and loses |i| for each i of L_k in L_e, so the cost is the
 * size of the E_i lists, not of the L_e lists: this is what makes the degree update cheap.
 */
export function computeSetDifferences(s: AmdState, el: PivotElement): void {
  s.mark = clearMarks(s, s.mark);
  const { iw, elen, nv, pe, w, degree } = s;
  const mark = s.mark;
  for (let pk = el.pk1; pk < el.pk2; pk++) {
    const i = iw[pk]!;
    const eln = elen[i]!;
    if (eln <= 0) continue;
    const nvi = -nv[i]!; // negated while i is in L_k
    const wnvi = mark - nvi;
    const p1 = pe[i]!;
    for (let p = p1; p < p1 + eln; p++) {
      const e = iw[p]!;
      const we = w[e]!;
      if (we >= mark) w[e] = we - nvi;
      else if (we !== 0) w[e] = degree[e]! + wnvi; // first visit of a live element
    }
  }
}

/**
 * Scan 2: the approximate external degree of each i ∈ L_k, d = Σ_{e ∈ E_i \ k} |L_e \ L_k| + |A_i \ L_k|,
 * an upper bound on the true degree that costs O(|E_i| + |A_i|) (Amestoy–Davis–Duff). On the way:
 *  - elements with L_e ⊆ L_k are absorbed into k (aggressive absorption: fewer elements to scan later);
 *  - variables of A_i that are in L_k are pruned (k's element covers that edge now);
 *  - i with nothing outside L_k is eliminated together with k (mass elimination);
 *  - the others get k as their first element and a hash of their lists for supervariable detection.
 * Updates el.dk and el.nvk for the mass-eliminated variables.
 */
export function updateDegrees(s: AmdState, el: PivotElement): void {
  const { iw, elen, nv, pe, w, len, degree, next, last, hhead, n } = s;
  const k = el.k;
  const mark = s.mark;
  for (let pk = el.pk1; pk < el.pk2; pk++) {
    const i = iw[pk]!;
    const p1 = pe[i]!;
    const p2 = p1 + elen[i]! - 1;
    let pn = p1;
    let h = 0;
    let d = 0;
    for (let p = p1; p <= p2; p++) {
      const e = iw[p]!;
      if (w[e] === 0) continue; // absorbed element
      const dext = w[e]! - mark;
      if (dext > 0) {
        d += dext;
        iw[pn++] = e;
        h += e;
      } else {
        pe[e] = flip(k);
        w[e] = 0;
        s.stats.aggressiveAbsorptions++;
      }
    }
    elen[i] = pn - p1 + 1; // the kept elements plus k, inserted below
    const p3 = pn;
    const p4 = p1 + len[i]!;
    for (let p = p2 + 1; p < p4; p++) {
      const j = iw[p]!;
      const nvj = nv[j]!;
      if (nvj <= 0) continue; // dead, or in L_k
      d += nvj;
      iw[pn++] = j;
      h += j;
    }
    if (d === 0) {
      eliminateWithPivot(s, el, i);
      continue;
    }
    degree[i] = Math.min(degree[i]!, d);
    // Make k the first element of E_i: k goes to p1, the element there to p3, the variable at p3 to the end.
    iw[pn] = iw[p3]!;
    iw[p3] = iw[p1]!;
    iw[p1] = k;
    len[i] = pn - p1 + 1;
    const bucket = h % n;
    next[i] = hhead[bucket]!;
    hhead[bucket] = i;
    last[i] = bucket; // remembered for supervariable detection
  }
  s.degree[k] = el.dk;
  s.lemax = Math.max(s.lemax, el.dk);
  s.mark = clearMarks(s, s.mark + s.lemax);
}

/** Mass elimination: i is adjacent to nothing but L_k, so eliminating it with k creates no extra fill. */
function eliminateWithPivot(s: AmdState, el: PivotElement, i: number): void {
  s.pe[i] = flip(el.k);
  const nvi = -s.nv[i]!;
  el.dk -= nvi;
  el.nvk += nvi;
  s.nel += nvi;
  s.nv[i] = 0;
  s.elen[i] = -1;
  s.stats.massEliminated += nvi;
}
