import type { RouterProgress } from "../types.ts";
import type { OutputLayout } from "../dispatch/outputs.ts";
import { gatherRows } from "./routing.ts";

/**
 * A model a job sends rows to: an expert of the mixture (classify), or the uploaded model of a generic job
 * (runModel). The router's batch pipeline (hosts, canaries, replication, fallback) only sees this.
 */
export interface JobModel {
  readonly sha256: string;
  /** Values per row of its output as the job keeps it (an expert's classes; all outputs, wide, for the
   *  generic model: dispatch/outputs.ts). */
  readonly cols: number;
  /** Every output, asked of hosts (the generic model); null: the first output only (experts). */
  readonly layout: OutputLayout | null;
  /** For error messages: "expert 3", "model 1a2b3c4d5e6f". */
  readonly label: string;
  /** Its index in the mixture, for the per-expert statistics; null for a generic model. */
  readonly expert: number | null;
  /** The requester's own computation of `rows` inputs: [rows, cols]. */
  runLocal(input: Float32Array, rows: number): Promise<Float32Array>;
  /** Timeout of a request of `rows` rows to `peerId`, or null to use the host's expert statistics. */
  timeoutMs(peerId: string, rows: number): number | null;
  /** A host answered `rows` rows in `ms` (round trip). */
  measured(peerId: string, rows: number, ms: number): void;
}

/** One classify() or runModel() call: inputs, which rows each model must see, the outputs accepted so far,
 *  progress. A generic job is a job with one model that sees every row. */
export class Job {
  readonly outputs: Float32Array[];
  readonly bySource = new Map<string, number>();
  /** Recomputations of a banned host's outputs, still running. */
  readonly redo: Promise<void>[] = [];
  /** Set when the caller gave up (runModel's signal): batches stop where they are. */
  cancelled = false;
  readonly #accepted = new Map<string, { e: number; positions: Int32Array }[]>();
  readonly #remaining: Uint8Array;
  #rowsDone = 0;

  constructor(
    readonly id: string,
    readonly pixels: Float32Array,
    readonly cols: number,
    readonly rows: number,
    /** Per model, ascending row indices it must see. */
    readonly rowsOf: readonly Int32Array[],
    readonly models: readonly JobModel[],
    readonly onProgress: ((p: RouterProgress) => void) | null,
  ) {
    this.outputs = rowsOf.map((l, e) => new Float32Array(l.length * models[e]!.cols));
    this.#remaining = new Uint8Array(rows);
    for (const list of rowsOf) for (const r of list) this.#remaining[r]!++;
    for (const v of this.#remaining) if (v === 0) this.#rowsDone++;
  }

  /** Inputs of the rows at `positions` in model e's row list, packed. */
  inputsOf(e: number, positions: Int32Array): Float32Array {
    const list = this.rowsOf[e]!;
    return gatherRows(
      this.pixels,
      this.cols,
      Array.from(positions, (p) => list[p]!),
    );
  }

  inputOf(e: number, position: number): Float32Array {
    const r = this.rowsOf[e]![position]!;
    return this.pixels.slice(r * this.cols, (r + 1) * this.cols);
  }

  accept(e: number, positions: Int32Array, output: Float32Array, source: string): void {
    const list = this.rowsOf[e]!;
    const out = this.outputs[e]!;
    const cols = this.models[e]!.cols;
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i]!;
      out.set(output.subarray(i * cols, (i + 1) * cols), p * cols);
      const r = list[p]!;
      if (--this.#remaining[r]! === 0) this.#rowsDone++;
    }
    this.bySource.set(source, (this.bySource.get(source) ?? 0) + positions.length);
    if (source !== "local") {
      const list = this.#accepted.get(source) ?? [];
      list.push({ e, positions });
      this.#accepted.set(source, list);
    }
    this.onProgress?.(this.progress());
  }

  /** The batches accepted from `source` so far (forgotten here: the caller recomputes them). */
  takeAccepted(source: string): { e: number; positions: Int32Array }[] {
    const list = this.#accepted.get(source) ?? [];
    this.#accepted.delete(source);
    return list;
  }

  /** Replaces outputs accepted from `from` by the requester's own (progress is unchanged). */
  replace(e: number, positions: Int32Array, output: Float32Array, from: string): void {
    const out = this.outputs[e]!;
    const cols = this.models[e]!.cols;
    for (let i = 0; i < positions.length; i++) {
      out.set(output.subarray(i * cols, (i + 1) * cols), positions[i]! * cols);
    }
    const left = (this.bySource.get(from) ?? 0) - positions.length;
    if (left > 0) this.bySource.set(from, left);
    else this.bySource.delete(from);
    this.bySource.set("local", (this.bySource.get("local") ?? 0) + positions.length);
  }

  progress(): RouterProgress {
    return { jobId: this.id, rowsDone: this.#rowsDone, rows: this.rows };
  }
}
