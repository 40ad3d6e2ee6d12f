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
 *   "shade"          a lie made to pass a loose tolerance (issue 10): in each row, the top logit goes down and
 *                    the runner-up up by 0.9 × (5e-2 + 2e-2·|v|), the tolerance a host claiming "webgpu" used
 *                    to get, which flips near-tie predictions. Deterministic. With a false provider claim.
 *   "collude"        the same deterministic lie from every host that has it (a colluding pair): the top two
 *                    logits of a row swapped, on the rows chosen by their content (rowFraction of them), so two
 *                    colluders return identical bits for identical rows wherever their canaries sit.
 * "shade" and "collude" also honour `afterRequests` (honest first, e.g. for 20 answers to earn trust).
 */
export const HOST_FAULT_MODES = ["perturb", "silent", "die-mid-batch", "shade", "collude"] as const;
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
    this.#afterRequests = options.afterRequests ?? (mode === "die-mid-batch" || mode === "silent" ? 1 : 0);
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
    if (this.#requests <= this.#afterRequests) return output;
    if (this.mode === "shade" || this.mode === "collude") return this.#lieDeterministically(output, cols);
    if (this.mode !== "perturb") return output;
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

  /** "shade" / "collude": the same output for the same row, whoever computes it. */
  #lieDeterministically(output: Float32Array, cols: number): Float32Array {
    const rows = output.length / cols;
    for (let r = 0; r < rows; r++) {
      const row = output.subarray(r * cols, (r + 1) * cols);
      if (this.#rowFraction < 1 && contentHash(row) >= this.#rowFraction) continue;
      let top = 0;
      let second = -1;
      for (let c = 1; c < cols; c++) {
        if (row[c]! > row[top]!) {
          second = top;
          top = c;
        } else if (second < 0 || row[c]! > row[second]!) second = c;
      }
      if (second < 0) continue;
      this.corruptedRows++;
      if (this.mode === "collude") {
        [row[top], row[second]] = [row[second]!, row[top]!];
      } else {
        row[top] = row[top]! - 0.9 * (5e-2 + 2e-2 * Math.abs(row[top]!));
        row[second] = row[second]! + 0.9 * (5e-2 + 2e-2 * Math.abs(row[second]!));
      }
    }
    return output;
  }
}

/** A number in [0, 1) from a row's bits (FNV-1a): the same row gives the same number on every host. */
function contentHash(row: Float32Array): number {
  const bytes = new Uint8Array(row.buffer, row.byteOffset, row.byteLength);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0) / 2 ** 32;
}
