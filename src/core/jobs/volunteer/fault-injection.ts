import type { FromWorker } from "../../protocol/distributed.ts";
import type { SolvedRhs } from "../../protocol/rhs-solution.ts";
import type { VolunteerFault } from "./volunteer-fault.ts";

/**
 * TEST-ONLY fault injection for the volunteer runtime: lying clients, to prove the requester never accepts
 * a wrong answer and blames the liar (e2e/jobs-malicious.spec.ts, e2e/jobs-griefing.spec.ts, the churn
 * benchmark). Fakes on purpose and named as such; creating one outside test mode (the page's ?test=1) throws.
 *
 * "perturb": solve honestly, then move every entry of x by a relative 1e-3 and report the solver's own
 *   (now false) certificate, as a volunteer that cuts corners or lies would.
 * "grief": answer x = 0 with "did not converge, residual 1" (a griefer: it costs it nothing, and it used
 *   to fail the job without touching its reputation). The page test pairs it with a huge announced benchmark.
 * "block-lie": ordinary units honestly, but as the holder of a distributed solve's row block send finite
 *   wrong values: every number of every reply (halos, partials, checkpoint x and r, gathered x) off by a
 *   relative ~1e-3.
 */
export type FaultMode = "perturb" | "grief" | "block-lie";
const MODES: readonly FaultMode[] = ["perturb", "grief", "block-lie"];

export class FaultInjection implements VolunteerFault {
  readonly mode: FaultMode;
  readonly #random: () => number;
  /** Replies of distributed blocks this liar corrupted ("block-lie"). */
  blockRepliesCorrupted = 0;

  private constructor(mode: FaultMode, random: () => number) {
    this.mode = mode;
    this.#random = random;
  }

  /** Refuses unless `testMode` is true (the caller derives it from ?test=1). */
  static create(mode: string, testMode: boolean, random: () => number = Math.random): FaultInjection {
    if (!testMode) throw new Error("FaultInjection is test-only: it needs the page's ?test=1 mode");
    if (!MODES.includes(mode as FaultMode)) {
      throw new Error(`unknown fault mode "${mode}" (known: ${MODES.join(", ")})`);
    }
    return new FaultInjection(mode as FaultMode, random);
  }

  corrupt(solved: SolvedRhs): SolvedRhs {
    if (this.mode === "grief") {
      return { ...solved, x: new Float64Array(solved.x.length), converged: false, relResidual: 1 };
    }
    if (this.mode === "perturb") return { ...solved, x: this.#perturb(solved.x) };
    return solved;
  }

  corruptBlockReply(reply: FromWorker): FromWorker {
    if (this.mode !== "block-lie") return reply;
    this.blockRepliesCorrupted++;
    if (reply.type === "halo") {
      const parts = reply.parts.map((p) => ({ ...p, values: this.#perturb(p.values) }));
      const cp = reply.checkpoint;
      return cp === undefined
        ? { ...reply, parts }
        : { ...reply, parts, checkpoint: { ...cp, x: this.#perturb(cp.x), r: this.#perturb(cp.r) } };
    }
    if (reply.type === "dots") {
      return { ...reply, partials: reply.partials.map((v) => v * (1 + 1e-3 * (this.#random() + 0.5))) };
    }
    if (reply.type === "x") return { ...reply, x: this.#perturb(reply.x), r: this.#perturb(reply.r) };
    return reply;
  }

  /** A copy with every entry moved by a relative ~1e-3 (finite, plausible, wrong). */
  #perturb(x: Float64Array): Float64Array<ArrayBuffer> {
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = v + (Math.abs(v) + 1e-3) * 1e-3 * (this.#random() * 2 - 1);
    }
    return out;
  }
}
