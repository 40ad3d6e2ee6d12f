import type { VolunteerFault } from "./volunteer-fault.ts";

/**
 * TEST-ONLY fault injection for the volunteer runtime: a volunteer that returns wrong answers, to prove the
 * requester never accepts one (e2e/jobs-malicious.spec.ts, the churn benchmark). It is a fake on purpose
 * and named as such; creating one outside test mode (the page's ?test=1) throws.
 *
 * "perturb": solve honestly, then move every entry of x by a relative 1e-3 and report the solver's own
 * (now false) certificate, as a volunteer that cuts corners or lies would.
 */
export type FaultMode = "perturb";

export class FaultInjection implements VolunteerFault {
  readonly mode: FaultMode;
  readonly #random: () => number;

  private constructor(mode: FaultMode, random: () => number) {
    this.mode = mode;
    this.#random = random;
  }

  /** Refuses unless `testMode` is true (the caller derives it from ?test=1). */
  static create(mode: string, testMode: boolean, random: () => number = Math.random): FaultInjection {
    if (!testMode) throw new Error("FaultInjection is test-only: it needs the page's ?test=1 mode");
    if (mode !== "perturb") throw new Error(`unknown fault mode "${mode}" (known: perturb)`);
    return new FaultInjection(mode, random);
  }

  /** A corrupted copy of the solution. */
  corrupt(x: Float64Array): Float64Array {
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v + (Math.abs(v) + 1e-3) * 1e-3 * (this.#random() * 2 - 1);
    }
    return out;
  }
}
