import { isTrusted } from "../../../trust/reputation.ts";
import { isSelf, type RouterCore } from "../core.ts";
import { gatherRows } from "../jobs/routing.ts";
import { CanarySupply } from "./canaries.ts";
import { adjudicate } from "./replication.ts";
import { tellVerdict } from "./batch-verdicts.ts";
import type { RowLedger } from "./row-ledger.ts";
import type { AskHost } from "./verify.ts";

/** Sample rows the router may send before any job: inputs of the kind its jobs send (the gate's input, which
 *  is every expert's input too). */
export interface QualificationSamples {
  readonly pixels: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Trust earned before the first job, not during it. A host is untrusted until it has returned trustAfter
 * consecutive answers that a full check found right (trust/reputation.ts, after BOINC's adaptive
 * replication), and while it is untrusted every answer it gives is recomputed by the requester
 * (verify.ts). On a first job that recomputation fell inside the job: with 2 fresh volunteers, 8–17 of the
 * 18 remote answers of a 500-image job were recomputed, against 3–9 in the next job.
 *
 * So while no job runs, each untrusted host that has loaded an expert gets batches of sample rows (the test
 * images the Experts view fetches for its form anyway), one at a time, and each answer is checked in full
 * against the requester's own computation: the same check an untrusted host's answers get in a job, moved to
 * time the person spends on the form. A host that agrees trustAfter times in a row is trusted before the
 * first job starts; one that differs is punished exactly as in a job (row-ledger.ts). A batch has the size
 * of a job's batch with its canaries (batchRows + canariesPerRequest rows), so a host cannot tell it from
 * one.
 *
 * What it does not change: a trusted host's answers in a job still carry canaries taken from that job's
 * own rows, and are still checked in full at least spotCheckFloor of the time (spot-check.ts). A host that
 * is honest on the sample rows and lies on a user's rows meets those checks, as a host honest for its first
 * trustAfter job answers does. It stops as soon as a job starts (a job's batches never queue behind it) and
 * resumes when the router is idle again; nothing is sent without samples (setSamples).
 */
export class HostQualifier {
  #samples: QualificationSamples | null = null;
  readonly #busy = new Set<string>();
  #watching = false;

  constructor(
    private readonly core: RouterCore,
    private readonly ledger: RowLedger,
    private readonly ask: AskHost,
  ) {}

  setSamples(samples: QualificationSamples): void {
    if (!(samples.rows > 0) || samples.pixels.length !== samples.rows * samples.cols) return;
    this.#samples = samples;
    this.#poke();
    if (!this.#watching) void this.#watch();
  }

  /** Re-examines the hosts at every registry change (a host ready, a slot freed, a ban...). */
  async #watch(): Promise<void> {
    this.#watching = true;
    while (!this.core.closed) {
      await this.core.registry.nextChange();
      this.#poke();
    }
  }

  /** One batch to each untrusted, idle host that has an expert ready, while no job runs. */
  #poke(): void {
    const { core } = this;
    if (core.closed || core.jobs.size > 0 || this.#samples === null) return;
    const now = core.o.nowMs();
    for (const entry of core.registry.all()) {
      if (isSelf(core, entry.peerId) || this.#busy.has(entry.peerId)) continue;
      if (isTrusted(core.book.get(entry.peerId), core.book.policy)) continue;
      const ready = core.shas.flatMap((sha, e) => (core.registry.usable(entry, sha, now) ? [e] : []));
      if (ready.length === 0) continue;
      const e = ready[Math.floor(core.o.random() * ready.length)]!;
      this.#busy.add(entry.peerId);
      void this.#once(entry.peerId, e, this.#samples).finally(() => {
        this.#busy.delete(entry.peerId);
        this.#poke();
      });
    }
  }

  async #once(peerId: string, e: number, samples: QualificationSamples): Promise<void> {
    const { core } = this;
    const { o, registry, book, totals, emitter } = core;
    const model = core.expertModels[e]!;
    const others = new Set(registry.all().flatMap((h) => (h.peerId === peerId ? [] : [h.peerId])));
    const entry = await registry.acquire(model.sha256, others, 1);
    if (!entry) return;
    if (core.jobs.size > 0 || core.closed) {
      registry.release(entry);
      return;
    }
    const rows = Math.min(o.batchRows + o.canariesPerRequest, samples.rows);
    const picked = Array.from({ length: rows }, () => Math.floor(o.random() * samples.rows));
    const input = gatherRows(samples.pixels, samples.cols, picked);
    // No canaries: every row of the answer is checked.
    const answer = await this.ask(entry, model, input, rows, new CanarySupply([], o.random));
    if (!answer) return; // a failure is recorded by ask (timeout, error, closed)
    const reference = await model.runLocal(input, rows);
    totals.qualificationBatches++;
    totals.qualificationRows += rows;
    const [judgement] = adjudicate([answer], reference, model.cols, model.tolerance);
    if (judgement!.honest) {
      book.recordValid(peerId);
      tellVerdict(core, answer, "accepted");
      core.persist();
      emitter.emit("stats", null);
      return;
    }
    tellVerdict(core, answer, "rejected");
    registry.get(peerId)?.stats.failed("mismatch");
    this.ledger.punish(
      peerId,
      `outputs differ from the requester's on ${model.label} (${judgement!.comparison.badRows} rows, a check before any job)`,
      rows,
    );
  }
}
