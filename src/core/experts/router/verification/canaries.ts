import { compareOutputs, type Comparison, type Tolerance } from "./tolerance.ts";

/**
 * Canary rows: rows whose expert outputs the requester computed itself, mixed into remote requests at
 * random positions. A host cannot tell them apart, so one that alters outputs is caught with probability
 * growing with every request it serves; the router discards its result and bans it.
 *
 * Canaries are real rows of the job, drawn at random from the rows routed to the expert, and each is handed
 * out once: a host never sees a row twice, so "answer honestly what I have seen before" does not find them.
 * The requester's own output for a canary row is also that row's accepted output (it is never sent as a
 * real row), so canaries cost only their share of local compute (about perRequest / batchRows).
 */

/** One canary: a row of the job, its input, and the requester's own output for it. */
export interface CanaryRow {
  /** Which row it is, in the caller's numbering (the router: its index in the expert's row list). */
  readonly row: number;
  readonly input: Float32Array;
  readonly output: Float32Array;
}

/** Splits an expert's rows into canaries (computed locally) and rows to send. Too few rows to hide a canary
 *  among (≤ 2 × perRequest): all are computed locally. */
export function planCanaryRows(
  rows: Int32Array,
  batchRows: number,
  perRequest: number,
  random: () => number,
): { canaryRows: Int32Array; remoteRows: Int32Array } {
  if (perRequest <= 0) return { canaryRows: new Int32Array(0), remoteRows: rows };
  if (rows.length <= 2 * perRequest) return { canaryRows: rows, remoteRows: new Int32Array(0) };
  const count = Math.min(perRequest * Math.ceil(rows.length / batchRows), Math.floor(rows.length / 2));
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(random() * rows.length));
  const canaryRows = new Int32Array(count);
  const remoteRows = new Int32Array(rows.length - count);
  let c = 0;
  let r = 0;
  for (let i = 0; i < rows.length; i++) {
    if (picked.has(i)) canaryRows[c++] = rows[i]!;
    else remoteRows[r++] = rows[i]!;
  }
  return { canaryRows, remoteRows };
}

/** Hands out canaries: fresh ones first; when a retry or replica has used them all up, old ones again. */
export class CanarySupply {
  readonly #fresh: CanaryRow[];
  readonly #all: CanaryRow[];

  constructor(canaries: readonly CanaryRow[], random: () => number) {
    this.#all = [...canaries];
    this.#fresh = [...canaries];
    for (let i = this.#fresh.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [this.#fresh[i], this.#fresh[j]] = [this.#fresh[j]!, this.#fresh[i]!];
    }
  }

  take(n: number, random: () => number): CanaryRow[] {
    const out: CanaryRow[] = [];
    while (out.length < n && this.#fresh.length > 0) out.push(this.#fresh.pop()!);
    while (out.length < n && this.#all.length > 0)
      out.push(this.#all[Math.floor(random() * this.#all.length)]!);
    return out;
  }
}

export interface Mixed {
  readonly input: Float32Array;
  readonly rows: number;
  /** Position of each canary in the mixed batch, in the order of `canaries`. */
  readonly at: readonly number[];
  readonly canaries: readonly CanaryRow[];
}

/** Inserts canaries into [rows, cols] at uniformly random distinct positions. */
export function mixCanaries(
  input: Float32Array,
  rows: number,
  cols: number,
  canaries: readonly CanaryRow[],
  random: () => number,
): Mixed {
  const total = rows + canaries.length;
  const chosen = new Set<number>();
  while (chosen.size < canaries.length) chosen.add(Math.floor(random() * total));
  const at = [...chosen];
  const slot = new Map(at.map((p, i) => [p, i]));
  const out = new Float32Array(total * cols);
  let real = 0;
  for (let p = 0; p < total; p++) {
    const k = slot.get(p);
    if (k !== undefined) {
      out.set(canaries[k]!.input, p * cols);
    } else {
      out.set(input.subarray(real * cols, (real + 1) * cols), p * cols);
      real++;
    }
  }
  return { input: out, rows: total, at, canaries };
}

/** Separates a mixed batch's output ([mixed.rows, cols]) into the real rows' outputs and a verdict on the
 *  canaries against the requester's own outputs. */
export function unmixCanaries(
  output: Float32Array,
  cols: number,
  mixed: Mixed,
  tolerance: Tolerance,
): { real: Float32Array; canaries: Comparison } {
  const isCanary = new Set(mixed.at);
  const real = new Float32Array((mixed.rows - mixed.at.length) * cols);
  let r = 0;
  for (let p = 0; p < mixed.rows; p++) {
    if (!isCanary.has(p)) real.set(output.subarray(p * cols, (p + 1) * cols), r++ * cols);
  }
  const got = new Float32Array(mixed.at.length * cols);
  const want = new Float32Array(mixed.at.length * cols);
  mixed.at.forEach((p, i) => {
    got.set(output.subarray(p * cols, (p + 1) * cols), i * cols);
    want.set(mixed.canaries[i]!.output, i * cols);
  });
  return { real, canaries: compareOutputs(got, want, cols, tolerance) };
}
