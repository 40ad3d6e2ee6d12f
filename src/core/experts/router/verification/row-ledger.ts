import type { RouterCore } from "../core.ts";
import type { Job } from "../jobs/job.ts";

/**
 * Where accepted rows are booked: a job's outputs, the totals, the per-host and per-expert counts; the
 * rows the requester computes itself (canaries, fallback); and what happens to a host caught lying (banned,
 * and everything it gave the running jobs recomputed here).
 */
export class RowLedger {
  constructor(private readonly core: RouterCore) {}

  accept(job: Job, e: number, positions: Int32Array, output: Float32Array, source: string): void {
    const { totals, registry, rowsByHost, emitter } = this.core;
    job.accept(e, positions, output, source);
    if (source !== "local") {
      totals.remoteRows += positions.length;
      const entry = registry.get(source);
      if (entry) entry.stats.rowsAccepted += positions.length;
    }
    rowsByHost.set(source, (rowsByHost.get(source) ?? 0) + positions.length);
    // Banned while its answer was being verified: discarded like the rest of its work.
    if (registry.get(source)?.banned != null) this.redo(job, source);
    emitter.emit("progress", job.progress());
    emitter.emit("stats", null);
  }

  punish(peerId: string, reason: string, rows: number): void {
    const { o, book, totals, registry, emitter, placement } = this.core;
    book.recordInvalid(peerId, o.nowMs());
    totals.rowsDiscarded += rows;
    if (registry.ban(peerId, reason)) {
      totals.liarsCaught++;
      emitter.emit("banned", { peerId, reason });
      placement.update();
      // Everything it gave the jobs still running is discarded and recomputed here: a host that earned
      // trust and then lied must not leave unreplicated wrong rows behind.
      for (const job of this.core.jobs) this.redo(job, peerId);
    }
    emitter.emit("stats", null);
  }

  redo(job: Job, peerId: string): void {
    const { totals, perExpert, registry, rowsByHost, emitter } = this.core;
    for (const { e, positions } of job.takeAccepted(peerId)) {
      const model = job.models[e]!;
      job.redo.push(
        model.runLocal(job.inputsOf(e, positions), positions.length).then((output) => {
          job.replace(e, positions, output, peerId);
          const n = positions.length;
          totals.redoneRows += n;
          totals.rowsDiscarded += n;
          totals.remoteRows -= n;
          totals.localRows += n;
          if (model.expert !== null) perExpert[model.expert]!.local += n;
          const entry = registry.get(peerId);
          if (entry) entry.stats.rowsAccepted -= n;
          rowsByHost.set(peerId, (rowsByHost.get(peerId) ?? 0) - n);
          rowsByHost.set("local", (rowsByHost.get("local") ?? 0) + n);
          emitter.emit("stats", null);
        }),
      );
    }
  }

  /** Rows of model e computed here (and accepted as "local"); their outputs. `input`: their inputs, when
   *  the caller has them packed already. */
  async computeLocally(
    job: Job,
    e: number,
    positions: Int32Array,
    why: "fallback" | "canary",
    input?: Float32Array,
  ): Promise<Float32Array> {
    if (positions.length === 0) return new Float32Array(0);
    const { totals, perExpert } = this.core;
    const model = job.models[e]!;
    const output = await model.runLocal(input ?? job.inputsOf(e, positions), positions.length);
    if (why === "canary") totals.canaryRows += positions.length;
    else totals.fallbackRows += positions.length;
    totals.localRows += positions.length;
    if (model.expert !== null) perExpert[model.expert]!.local += positions.length;
    this.accept(job, e, positions, output, "local");
    return output;
  }

  /** A generic job's rows computed here, in chunks (progress between them; stops when cancelled). */
  async localChunks(job: Job, positions: Int32Array): Promise<void> {
    const chunkRows = this.core.o.localChunkRows;
    for (let at = 0; at < positions.length && !job.cancelled; at += chunkRows) {
      await this.computeLocally(job, 0, positions.subarray(at, at + chunkRows), "fallback");
    }
  }
}
