import type { RouterCore } from "../core.ts";
import type { Job } from "../jobs/job.ts";
import { compareOutputs } from "./tolerance.ts";

/**
 * Where accepted rows are booked: a job's outputs, the totals, the per-host and per-expert counts; the
 * rows the requester computes itself (canaries, fallback); and what happens to a host caught lying: it
 * loses its trust at once, is banned (the ban is persisted, core.ts), and everything it computed or vouched
 * for, in the running jobs and in the finished ones the router still keeps, is recomputed here. A
 * recomputation is also an audit: when the batch's other party (the host a banned checker vouched for, or
 * the checker that vouched for a banned host) delivered outputs that differ from the requester's, it is
 * caught too. A finished job whose outputs changed is announced ("revised") with its new result.
 */
export class RowLedger {
  constructor(private readonly core: RouterCore) {}

  accept(
    job: Job,
    e: number,
    positions: Int32Array,
    output: Float32Array,
    source: string,
    checkedBy: string | null = null,
  ): void {
    const { totals, registry, rowsByHost, emitter } = this.core;
    job.accept(e, positions, output, source, checkedBy);
    if (source !== "local") {
      totals.remoteRows += positions.length;
      const entry = registry.get(source);
      if (entry) entry.stats.rowsAccepted += positions.length;
    }
    rowsByHost.set(source, (rowsByHost.get(source) ?? 0) + positions.length);
    // Banned while its answer was being verified: discarded like the rest of its work.
    for (const id of [source, checkedBy]) {
      if (id !== null && registry.get(id)?.banned != null)
        job.redo.push(this.redo(job, id).then(() => undefined));
    }
    emitter.emit("progress", job.progress());
    emitter.emit("stats", null);
  }

  punish(peerId: string, reason: string, rows: number): void {
    const { o, book, totals, registry, emitter, placement } = this.core;
    book.recordInvalid(peerId, o.nowMs());
    totals.rowsDiscarded += rows;
    if (registry.ban(peerId, reason)) {
      totals.liarsCaught++;
      this.core.bannedAt.set(peerId, o.nowMs());
      emitter.emit("banned", { peerId, reason });
      placement.update();
      // Everything it gave the jobs still running is discarded and recomputed here: a host that earned
      // trust and then lied must not leave unreplicated wrong rows behind.
      for (const job of this.core.jobs) job.redo.push(this.redo(job, peerId).then(() => undefined));
      // And in the finished jobs still kept: their results are revised.
      for (const done of this.core.finished) {
        if (done.job.holdsFrom(peerId)) void this.#revise(done, peerId);
      }
    }
    this.core.persist();
    emitter.emit("stats", null);
  }

  /** Recomputes here every batch of `job` that `peerId` computed or vouched for; the rows recomputed. */
  async redo(job: Job, peerId: string): Promise<number> {
    const { totals, perExpert, registry, rowsByHost, emitter } = this.core;
    const work = job.takeAccepted(peerId).map(async (batch) => {
      const { e, positions, source } = batch;
      const model = job.models[e]!;
      const delivered = job.outputsAt(e, positions);
      const output = await model.runLocal(job.inputsOf(e, positions), positions.length);
      // The audit: the other party of the batch is caught when what was accepted was wrong.
      const other = source === peerId ? batch.checkedBy : source;
      if (other !== null && !compareOutputs(delivered, output, model.cols, model.tolerance).ok) {
        registry.get(other)?.stats.failed("mismatch");
        this.punish(
          other,
          `outputs on ${model.label} that ${peerId} (banned) ${other === source ? "vouched for" : "computed"} differ from the requester's`,
          positions.length,
        );
      }
      job.replace(e, positions, output, source);
      const n = positions.length;
      totals.redoneRows += n;
      totals.rowsDiscarded += n;
      totals.remoteRows -= n;
      totals.localRows += n;
      if (model.expert !== null) perExpert[model.expert]!.local += n;
      const entry = registry.get(source);
      if (entry) entry.stats.rowsAccepted -= n;
      if (entry && job.released) entry.stats.rowsPastRevision -= n;
      rowsByHost.set(source, (rowsByHost.get(source) ?? 0) - n);
      rowsByHost.set("local", (rowsByHost.get("local") ?? 0) + n);
      emitter.emit("stats", null);
      return n;
    });
    return (await Promise.all(work)).reduce((a, b) => a + b, 0);
  }

  /** A finished job held outputs from a host now banned: recomputed, and its new result announced. */
  async #revise(done: RouterCore["finished"][number], peerId: string): Promise<void> {
    const rows = await this.redo(done.job, peerId).catch(() => 0);
    if (rows === 0 || this.core.closed) return;
    done.revisedBy.add(peerId);
    done.rowsRevised += rows;
    this.core.emitter.emit("revised", {
      jobId: done.job.id,
      bannedHosts: [...done.revisedBy],
      rowsRecomputed: done.rowsRevised,
      result: done.assemble(),
    });
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
