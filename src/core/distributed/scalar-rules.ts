import type { DistributedMethod } from "../protocol/distributed.ts";

export type Reduction =
  { readonly scalars: number[]; readonly completesIteration: boolean } | { readonly breakdown: string };

/**
 * The coordinator's half of a distributed Krylov method: turns the summed partials of a phase into the
 * scalars every worker needs. One partial per iteration is ‖r‖² of the current iterate (`residualAt`): the
 * coordinator tests convergence on it before reducing.
 */
export interface ScalarRule {
  /** Reductions per iteration. */
  readonly phases: number;
  /** Dot products each phase expects from every worker. */
  readonly partialsPerPhase: readonly number[];
  readonly residualAt: { readonly phase: number; readonly index: number };
  /** Forget the recurrence (restart from x). */
  reset(): void;
  reduce(phase: number, sums: readonly number[]): Reduction;
}

const ok = (v: number): boolean => Number.isFinite(v) && v !== 0;

/** Chronopoulos–Gear PCG: partials [(r,u), (w,u), (r,r)] → [α, β]. */
function pcgRule(): ScalarRule {
  let first = true;
  let gammaPrev = 0;
  let alphaPrev = 0;
  return {
    phases: 1,
    partialsPerPhase: [3],
    residualAt: { phase: 0, index: 2 },
    reset() {
      first = true;
    },
    reduce(_phase, [gamma = NaN, delta = NaN]) {
      const beta = first ? 0 : gamma / gammaPrev;
      const denom = first ? delta : delta - (beta * gamma) / alphaPrev;
      const alpha = gamma / denom;
      if (!ok(gamma) || !ok(alpha) || !Number.isFinite(beta)) {
        return { breakdown: `pcg breakdown: (r,z)=${gamma}, (Az,z)=${delta}, alpha=${alpha}` };
      }
      first = false;
      gammaPrev = gamma;
      alphaPrev = alpha;
      return { scalars: [alpha, beta], completesIteration: true };
    },
  };
}

/** BiCGSTAB: phase 0 [(r̂₀,v), (r,r), (r̂₀,r)] → [α]; phase 1 [(t,s), (t,t), (r̂₀,s), (r̂₀,t)] → [ω, β]. */
function bicgstabRule(): ScalarRule {
  let first = true;
  let rho = 0;
  let alpha = 0;
  return {
    phases: 2,
    partialsPerPhase: [3, 4],
    residualAt: { phase: 0, index: 1 },
    reset() {
      first = true;
    },
    reduce(phase, sums) {
      if (phase === 0) {
        const [rv = NaN, , r0r = NaN] = sums;
        if (first) rho = r0r;
        alpha = rho / rv;
        if (!ok(rho) || !ok(alpha)) return { breakdown: `bicgstab breakdown: rho=${rho}, (r0,v)=${rv}` };
        first = false;
        return { scalars: [alpha], completesIteration: false };
      }
      const [ts = NaN, tt = NaN, r0s = NaN, r0t = NaN] = sums;
      const omega = tt > 0 ? ts / tt : 0;
      const rhoNext = r0s - omega * r0t;
      // ω = 0 (s ⟂ t, or s = 0): take p = r next, which restarts the direction without a division by 0.
      const beta = omega !== 0 ? (rhoNext / rho) * (alpha / omega) : 0;
      if (!Number.isFinite(omega) || !Number.isFinite(beta)) {
        return { breakdown: `bicgstab breakdown: omega=${omega}, beta=${beta}` };
      }
      rho = rhoNext;
      return { scalars: [omega, beta], completesIteration: true };
    },
  };
}

export function scalarRuleFor(method: DistributedMethod): ScalarRule {
  return method === "pcg" ? pcgRule() : bicgstabRule();
}
