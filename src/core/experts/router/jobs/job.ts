import type { RouterProgress } from "../types.ts";
import type { OutputLayout } from "../dispatch/outputs.ts";
import type { Tolerance } from "../verification/tolerance.ts";
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
  /** How far an honest host's outputs may be from the requester's: set by the requester from the variant
   *  it sends (verification/tolerance.ts), whatever a host says it runs on. */
  readonly tolerance: Tolerance;
  /** Its index in the mixture, for the per-expert statistics; null for a generic model. */
  readonly expert: number | null;
  /** The requester's own computation of `rows` inputs: [rows, cols]. */
  runLocal(input: Float32Array, rows: number): Promise<Float32Array>;
  /** Timeout of a request of `rows` rows to `peerId`, or null to use the host's expert statistics. */
  timeoutMs(peerId: string, rows: number): number | null;
  /** A host answered `rows` rows in `ms` (round trip). */
  measured(peerId: string, rows: number, ms: number): void;
}

/** A batch accepted from a host: which model, which positions in its row list, who computed it and which
 *  trusted host vouched for it (null: only its canaries did). Recomputed if either is caught lying. */
export interface AcceptedBatch {
  readonly e: number;
  readonly positions: Int32Array;
  readonly source: string;
  readonly checkedBy: string | null;
  /** Recomputed already (a batch is listed under both its source and its checker). */
  redone: boolean;
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
  /** Set when the router stopped keeping this finished job (core.ts keepFinished): a host banned later
   *  leaves its rows here, and they are counted as past revision. */
  released = false;
  readonly #accepted = new Map<string, AcceptedBatch[]>();
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

  accept(
    e: number,
    positions: Int32Array,
    output: Float32Array,
    source: string,
    checkedBy: string | null = null,
  ): void {
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
      const batch: AcceptedBatch = { e, positions, source, checkedBy, redone: false };
      for (const id of checkedBy === null ? [source] : [source, checkedBy]) {
        const list = this.#accepted.get(id) ?? [];
        list.push(batch);
        this.#accepted.set(id, list);
      }
    }
    this.onProgress?.(this.progress());
  }

  /** The batches `peerId` computed or vouched for, not recomputed yet (marked recomputed here: the caller
   *  recomputes them). */
  takeAccepted(peerId: string): AcceptedBatch[] {
    const list = (this.#accepted.get(peerId) ?? []).filter((b) => !b.redone);
    this.#accepted.delete(peerId);
    for (const b of list) b.redone = true;
    return list;
  }

  /** Whether any accepted batch was computed or vouched for by `peerId` and not recomputed yet. */
  holdsFrom(peerId: string): boolean {
    return (this.#accepted.get(peerId) ?? []).some((b) => !b.redone);
  }

  /** The outputs accepted for model e at `positions`, packed (what a recomputation is compared with). */
  outputsAt(e: number, positions: Int32Array): Float32Array {
    const cols = this.models[e]!.cols;
    const out = new Float32Array(positions.length * cols);
    const all = this.outputs[e]!;
    for (let i = 0; i < positions.length; i++) {
      out.set(all.subarray(positions[i]! * cols, (positions[i]! + 1) * cols), i * cols);
    }
    return out;
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
