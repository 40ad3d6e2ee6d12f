import type { ExpertHostFault, FaultAction, HostFaultSnapshot } from "./host-fault.ts";

/**
 * TEST-ONLY fault injection for the expert host (like jobs/volunteer/fault-injection.ts): hosts that misbehave in the
 * ways the router must survive, to prove it does (tests/unit/experts/router-*.test.ts, bench:experts, the
 * e2e spec under ?test=1). Fakes on purpose and named as such; creating one outside test mode throws.
 *
 *   "perturb"        serve honestly, then move outputs by a relative 1e-3 (every row, or a fraction of
 *                    rows), from the first request or only after `afterRequests` honest ones (a host that
 *                    earns trust, then lies).
 *   "silent"         accept models and requests, never answer one: a hung or malicious host; only the
 *                    router's timeouts can tell.
 *   "die-mid-batch"  serve `afterRequests` requests, then die on the next one without answering: a tab
 *                    closed while it held a batch.
 */
export const HOST_FAULT_MODES = ["perturb", "silent", "die-mid-batch"] as const;
export type HostFaultMode = (typeof HOST_FAULT_MODES)[number];

export interface HostFaultOptions {
  /** "perturb": fraction of rows changed (default 1). */
  readonly rowFraction?: number;
  /** "die-mid-batch": requests served before dying (default 1); "perturb": honest requests before lying
   *  (default 0). */
  readonly afterRequests?: number;
  readonly random?: () => number;
}

export type { HostFaultSnapshot } from "./host-fault.ts";

export class HostFault implements ExpertHostFault {
  readonly mode: HostFaultMode;
  readonly #rowFraction: number;
  readonly #afterRequests: number;
  readonly #random: () => number;
  #requests = 0;
  /** Rows whose outputs were changed (what the router must never accept). */
  corruptedRows = 0;
  /** Set by the host when it dies on a request (see onRequest's "die"). */
  diedHoldingRows: number | null = null;

  private constructor(mode: HostFaultMode, options: HostFaultOptions) {
    this.mode = mode;
    this.#rowFraction = options.rowFraction ?? 1;
    this.#afterRequests = options.afterRequests ?? (mode === "perturb" ? 0 : 1);
    this.#random = options.random ?? Math.random;
  }

  /** Refuses unless `testMode` is true (the caller derives it from ?test=1, or is a test). */
  static create(mode: string, testMode: boolean, options: HostFaultOptions = {}): HostFault {
    if (!testMode) throw new Error("HostFault is test-only: it needs the page's ?test=1 mode");
    if (!(HOST_FAULT_MODES as readonly string[]).includes(mode)) {
      throw new Error(`unknown host fault mode "${mode}" (known: ${HOST_FAULT_MODES.join(", ")})`);
    }
    return new HostFault(mode as HostFaultMode, options);
  }

  /** Called for every infer-request the host accepts, before it is queued. */
  onRequest(): FaultAction {
    this.#requests++;
    if (this.mode === "silent") return "ignore";
    if (this.mode === "die-mid-batch" && this.#requests > this.#afterRequests) return "die";
    return "serve";
  }

  snapshot(): HostFaultSnapshot {
    return {
      mode: this.mode,
      requests: this.#requests,
      corruptedRows: this.corruptedRows,
      diedHoldingRows: this.diedHoldingRows,
    };
  }

  /** The outputs the host will send ([rows, cols]); "perturb" changes them in place. */
  corrupt(output: Float32Array, cols: number): Float32Array {
    if (this.mode !== "perturb" || this.#requests <= this.#afterRequests) return output;
    const rows = output.length / cols;
    for (let r = 0; r < rows; r++) {
      if (this.#rowFraction < 1 && this.#random() >= this.#rowFraction) continue;
      this.corruptedRows++;
      for (let c = r * cols; c < (r + 1) * cols; c++) {
        const v = output[c]!;
        output[c] = v + (Math.abs(v) + 1e-3) * 1e-3 * (this.#random() < 0.5 ? -1 : 1);
      }
    }
    return output;
  }
}
