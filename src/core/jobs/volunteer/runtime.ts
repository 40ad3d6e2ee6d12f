import type { CsrMatrix } from "../../sparse/csr.ts";
import { BlobWaitTimeout, type BlobCache } from "../../base/blob-cache.ts";
import { DistributedVolunteer } from "../distributed/index.ts";
import { isJobError } from "../../protocol/job-errors.ts";
import type { JobBodyEvent, JobLink } from "../job-link.ts";
import {
  JOB_PROTOCOL_VERSION,
  MAX_DETAIL_CHARS,
  toWireSolution,
  type SolveTask,
  type UnitAssign,
  type UnitErrorCode,
  type UnitSolution,
} from "../../protocol/jobs.ts";
import type { BackendName } from "../../protocol/solver-names.ts";
import { blobRefOf, decodeCsr, decodeVector, encodeVector } from "../payload.ts";
import type { UnitSolver } from "./unit-solver.ts";
import type { VolunteerFault } from "./volunteer-fault.ts";
import { UnitLog, type UnitLogEntry, type UnitLogOutcome } from "./unit-log.ts";
import { BusyMeter } from "./busy-meter.ts";

/**
 * The volunteer side of a tab (or Node peer): takes unit assignments from any requester, fetches their
 * inputs by digest (heartbeating meanwhile), validates them (payload.ts: a unit whose input fails is
 * answered "invalid_input" and never run), solves one right-hand side after another in the solver worker,
 * and returns the solutions as blobs plus a signed unit-result. Units run one at a time, in arrival order.
 *
 * The person at the tab stays in charge: pause (the running unit is cancelled within a second, queued and
 * new ones are declined), a CPU share (a duty cycle: after a unit that kept the core busy for T ms it idles
 * T·(1 − share)/share ms), an optional pause while the tab is hidden (visibility is injected, so this
 * file needs no DOM) and an optional pause while the machine runs on battery (the page feeds the Battery
 * Status API's state in). What it did is logged (unit-log.ts) and its busy time measured (busy-meter.ts).
 */

export type VolunteerRunStatus = "idle" | "computing" | "paused";

export interface VolunteerSnapshot {
  readonly status: VolunteerRunStatus;
  readonly current: {
    readonly unitId: string;
    readonly jobId: string;
    readonly requesterId: string;
    readonly progress: number;
    readonly iteration: number | null;
    readonly residual: number | null;
    readonly backend: string | null;
  } | null;
  readonly unitsDone: number;
  readonly requestersServed: readonly string[];
  readonly cpuShare: number;
  readonly pauseWhenHidden: boolean;
  /** unit-result messages sent, per unit id (tests check that verified units are not recomputed). */
  readonly resultsSent: Readonly<Record<string, number>>;
  /** Why it is paused (the person's Pause first), or null when it is not. */
  readonly pauseReason: "user" | "hidden" | "battery" | null;
  readonly pauseOnBattery: boolean;
  /** The machine runs on battery, as the page last said (false where the page cannot tell). */
  readonly onBattery: boolean;
  /** Units and blocks that ended here, newest first (bounded, unit-log.ts). */
  readonly log: readonly UnitLogEntry[];
  /** Verdicts received that matched nothing this tab sent to that requester (counted, then dropped). */
  readonly verdictsIgnored: number;
  /** Fraction of the wall time spent computing over the last minute (busy-meter.ts). */
  readonly busyFraction: number;
}

export interface VisibilitySource {
  hidden(): boolean;
  onChange(listener: () => void): () => void;
}

export interface VolunteerRuntimeOptions {
  readonly link: JobLink;
  readonly cache: BlobCache;
  readonly solver: UnitSolver;
  readonly nowMs?: () => number;
  /** TEST ONLY: corrupt results (volunteer-fault.ts; none by default). */
  readonly fault?: VolunteerFault | null;
  readonly visibility?: VisibilitySource;
  readonly webgpu?: boolean;
  /** How long to wait for an input blob before giving the unit back (default 60 s). */
  readonly blobWaitMs?: number;
  /** Units held at once (all requesters together); more are declined (default 8). */
  readonly maxHeld?: number;
  /** Progress messages at most this often per unit (default 250 ms). */
  readonly progressIntervalMs?: number;
  /** Longest idle pause the duty cycle inserts (default 30 s). */
  readonly maxIdleMs?: number;
  readonly onChange?: (snapshot: VolunteerSnapshot) => void;
}

interface HeldUnit {
  readonly unitId: string;
  readonly jobId: string;
  readonly attempt: number;
  readonly requesterId: string;
  readonly task: SolveTask;
  readonly deadlineMs: number;
  readonly heartbeat: ReturnType<typeof setInterval>;
  /** Aborted when the unit must stop: the requester cancelled, its link closed, or this volunteer paused.
   *  Its signal goes with the unit's solves, so aborting also stops the solver. */
  readonly stop: AbortController;
}

const keyOf = (unitId: string, attempt: number): string => `${unitId}#${attempt}`;
const clipDetail = (s: string): string => (s.length > MAX_DETAIL_CHARS ? s.slice(0, MAX_DETAIL_CHARS) : s);
const jobIdOf = (unitId: string): string => unitId.slice(0, unitId.lastIndexOf("/"));
const stopped = (unit: HeldUnit): boolean => unit.stop.signal.aborted;

/** 0..1 from a residual on its way from 1 to tol (log scale), for a progress bar. */
export function residualProgress(relResidual: number, tol: number): number {
  if (!(relResidual > 0) || !(tol > 0 && tol < 1)) return 0;
  if (relResidual <= tol) return 1;
  return Math.max(0, Math.min(1, Math.log(relResidual) / Math.log(tol)));
}

export class VolunteerRuntime {
  readonly #o: Required<Omit<VolunteerRuntimeOptions, "fault" | "visibility" | "onChange">>;
  readonly #fault: VolunteerFault | null;
  readonly #visibility: VisibilitySource | null;
  readonly #onChange: (snapshot: VolunteerSnapshot) => void;
  readonly #held = new Map<string, HeldUnit>();
  readonly #offs: (() => void)[] = [];
  /** The decoded matrix of the most recent unit: consecutive units of a multi-rhs job share it. */
  #matrix: { sha256: string; a: CsrMatrix } | null = null;
  #running: HeldUnit | null = null;
  #pumping = false;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #userPaused = false;
  #pauseWhenHidden = false;
  #pauseOnBattery = false;
  #onBattery = false;
  readonly #log = new UnitLog();
  readonly #busy: BusyMeter;
  #cpuShare = 1;
  #unitsDone = 0;
  #served: string[] = [];
  #resultsSent: Record<string, number> = {};
  #current: VolunteerSnapshot["current"] = null;
  #lastBackend: BackendName = "js";
  #closed = false;
  #lastEmitMs = 0;
  /** Row blocks of distributed solves placed here (they run beside the queued units, see that file). */
  readonly distributed: DistributedVolunteer;

  constructor(options: VolunteerRuntimeOptions) {
    this.#o = {
      link: options.link,
      cache: options.cache,
      solver: options.solver,
      nowMs: options.nowMs ?? (() => Date.now()),
      webgpu: options.webgpu ?? false,
      blobWaitMs: options.blobWaitMs ?? 60_000,
      maxHeld: options.maxHeld ?? 8,
      progressIntervalMs: options.progressIntervalMs ?? 250,
      maxIdleMs: options.maxIdleMs ?? 30_000,
    };
    this.#fault = options.fault ?? null;
    this.#busy = new BusyMeter(this.#o.nowMs);
    this.#visibility = options.visibility ?? null;
    this.#onChange = options.onChange ?? (() => undefined);
    const { link, cache } = this.#o;
    this.#offs.push(
      link.onBody((event) => this.#onBody(event)),
      link.onBlob((_from, sha256, bytes) => cache.put(sha256, bytes)),
      link.onPeerClosed((peerId) => this.#dropRequester(peerId)),
    );
    if (this.#visibility) this.#offs.push(this.#visibility.onChange(() => this.#pausedChanged()));
    const blockFault = this.#fault?.corruptBlockReply?.bind(this.#fault);
    this.distributed = new DistributedVolunteer(link, {
      ...(blockFault !== undefined ? { corruptReply: blockFault } : {}),
      isPaused: () => this.paused,
      onChange: () => this.#emit(),
      nowMs: this.#o.nowMs,
      onBusy: (startMs, endMs) => this.#busy.add(startMs, endMs),
      onBlockEnd: (b) => {
        this.#log.add({ ...b, atMs: this.#o.nowMs(), kind: "block", outcome: "ended" });
      },
    });
  }

  // ── controls ────────────────────────────────────────────────────────────────────────────────────────

  get paused(): boolean {
    return this.#pauseReason() !== null;
  }

  #pauseReason(): VolunteerSnapshot["pauseReason"] {
    if (this.#userPaused) return "user";
    if (this.#pauseWhenHidden && this.#visibility?.hidden() === true) return "hidden";
    if (this.#pauseOnBattery && this.#onBattery) return "battery";
    return null;
  }

  pause(): void {
    this.#userPaused = true;
    this.#pausedChanged();
  }

  resume(): void {
    this.#userPaused = false;
    this.#pausedChanged();
  }

  setCpuShare(share: number): void {
    if (!Number.isFinite(share)) return;
    this.#cpuShare = Math.min(1, Math.max(0.1, share));
    this.#emit();
  }

  setPauseWhenHidden(value: boolean): void {
    this.#pauseWhenHidden = value;
    this.#pausedChanged();
  }

  /** "Only on AC power": pause while the machine is on battery. */
  setPauseOnBattery(value: boolean): void {
    this.#pauseOnBattery = value;
    this.#pausedChanged();
  }

  /** The page's Battery Status API says whether the machine is discharging. */
  setOnBattery(discharging: boolean): void {
    if (this.#onBattery === discharging) return;
    this.#onBattery = discharging;
    this.#pausedChanged();
  }

  snapshot(): VolunteerSnapshot {
    // A held row block of a distributed solve shows when no queued unit runs (it steps between them).
    const block = this.#running === null ? this.distributed?.snapshot().blocks[0] : undefined;
    return {
      status: this.paused ? "paused" : this.#running !== null || block !== undefined ? "computing" : "idle",
      current:
        block === undefined
          ? this.#current
          : {
              unitId: block.unitId,
              jobId: jobIdOf(block.unitId),
              requesterId: block.requesterId,
              progress: 0,
              iteration: block.iteration,
              residual: null,
              backend: "js (distributed block)",
            },
      unitsDone: this.#unitsDone,
      requestersServed: this.#served,
      cpuShare: this.#cpuShare,
      pauseWhenHidden: this.#pauseWhenHidden,
      resultsSent: this.#resultsSent,
      pauseReason: this.#pauseReason(),
      pauseOnBattery: this.#pauseOnBattery,
      onBattery: this.#onBattery,
      log: this.#log.entries,
      verdictsIgnored: this.#log.verdictsIgnored,
      busyFraction: this.#busy.fraction(),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    this.distributed.close();
    for (const unit of [...this.#held.values()]) this.#release(unit);
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#o.solver.dispose();
  }

  #pausedChanged(): void {
    if (this.paused) {
      // Give everything back: the running unit is cancelled (its worker stops within a second), queued ones
      // are declined so the requester reissues them at once instead of waiting for a lease to expire.
      for (const unit of [...this.#held.values()]) {
        const running = unit === this.#running;
        this.#sendError(unit, running ? "cancelled" : "declined", "the volunteer paused");
        this.#release(unit);
      }
      this.distributed.dropAll("the volunteer paused");
    } else {
      this.#pump();
    }
    this.#emit();
  }

  // ── messages ────────────────────────────────────────────────────────────────────────────────────────

  #onBody(event: JobBodyEvent): void {
    if (this.#closed) return;
    const { body, from } = event;
    if (body.type === "unit-assign") this.#onAssign(from, body);
    else if (body.type === "unit-cancel") {
      const unit = this.#held.get(keyOf(body.unitId, body.attempt));
      // Only the requester that assigned the unit may cancel it.
      if (unit !== undefined && unit.requesterId === from) this.#release(unit);
    } else if (body.type === "unit-verdict") {
      // Display only (unit-log.ts): the log applies it to a unit this tab sent to that requester, if any.
      this.#log.applyVerdict(from, body.unitId, body.attempt, body.verdict);
      this.#emit();
    }
  }

  #onAssign(from: string, body: UnitAssign): void {
    const key = keyOf(body.unitId, body.attempt);
    if (this.#held.has(key)) return; // a duplicate
    const decline = (code: UnitErrorCode, detail: string): void => {
      this.#send(from, {
        type: "unit-error",
        jv: JOB_PROTOCOL_VERSION,
        unitId: body.unitId,
        attempt: body.attempt,
        code,
        detail,
      });
    };
    if (this.paused) return decline("declined", "the volunteer is paused");
    if (this.#held.size >= this.#o.maxHeld) return decline("declined", "the volunteer holds enough units");
    if (body.task.backend === "webgpu" && !this.#o.webgpu) {
      return decline("unsupported", "this volunteer has no WebGPU");
    }
    if (body.deadlineMs <= this.#o.nowMs()) return; // already expired: the requester has moved on
    const unit: HeldUnit = {
      unitId: body.unitId,
      jobId: jobIdOf(body.unitId),
      attempt: body.attempt,
      requesterId: from,
      task: body.task,
      deadlineMs: body.deadlineMs,
      heartbeat: setInterval(() => this.#heartbeat(key), body.heartbeatIntervalMs),
      stop: new AbortController(),
    };
    this.#held.set(key, unit);
    this.#pump();
  }

  #heartbeat(key: string): void {
    const unit = this.#held.get(key);
    if (unit === undefined) return;
    if (this.#o.nowMs() > unit.deadlineMs) {
      this.#release(unit); // the requester reissued it already
      return;
    }
    this.#send(unit.requesterId, {
      type: "unit-heartbeat",
      jv: JOB_PROTOCOL_VERSION,
      unitId: unit.unitId,
      attempt: unit.attempt,
    });
  }

  #dropRequester(peerId: string): void {
    if (peerId === this.#o.link.selfId) return;
    for (const unit of [...this.#held.values()]) if (unit.requesterId === peerId) this.#release(unit);
  }

  /** Forgets a unit and stops its work (no message: whoever ended it already knows). */
  #release(unit: HeldUnit): void {
    clearInterval(unit.heartbeat);
    unit.stop.abort();
    this.#held.delete(keyOf(unit.unitId, unit.attempt));
  }

  #send(to: string, body: Parameters<JobLink["sendBody"]>[1]): void {
    this.#o.link.sendBody(to, body).catch(() => undefined);
  }

  #sendError(unit: HeldUnit, code: UnitErrorCode, detail: string): void {
    this.#send(unit.requesterId, {
      type: "unit-error",
      jv: JOB_PROTOCOL_VERSION,
      unitId: unit.unitId,
      attempt: unit.attempt,
      code,
      detail: clipDetail(detail),
    });
  }

  // ── running units ───────────────────────────────────────────────────────────────────────────────────

  #pump(): void {
    if (this.#pumping || this.#closed || this.paused || this.#idleTimer !== null) return;
    const next = this.#held.values().next();
    if (next.done === true) return;
    this.#pumping = true;
    const unit = next.value;
    this.#running = unit;
    this.#emit();
    const started = this.#o.nowMs();
    let outcome: UnitLogOutcome = "failed";
    void this.#run(unit)
      .then((sent) => {
        outcome = sent ? "sent" : stopped(unit) ? "cancelled" : "failed";
      })
      .catch((error: unknown) => {
        if (stopped(unit)) outcome = "cancelled";
        else this.#sendError(unit, "internal", String(error));
      })
      .finally(() => {
        this.#log.add({
          atMs: this.#o.nowMs(),
          requesterId: unit.requesterId,
          unitId: unit.unitId,
          attempt: unit.attempt,
          kind: "solve",
          ms: this.#o.nowMs() - started,
          outcome,
        });
        if (this.#held.get(keyOf(unit.unitId, unit.attempt)) === unit) this.#release(unit);
        this.#running = null;
        this.#current = null;
        this.#pumping = false;
        const busyMs = this.#o.nowMs() - started;
        const idleMs = Math.min(this.#o.maxIdleMs, (busyMs * (1 - this.#cpuShare)) / this.#cpuShare);
        if (idleMs >= 1 && !this.#closed) {
          this.#idleTimer = setTimeout(() => {
            this.#idleTimer = null;
            this.#pump();
          }, idleMs);
        }
        this.#emit();
        this.#pump();
      });
  }

  async #fetch(sha256: string): Promise<Uint8Array> {
    return this.#o.cache.waitFor(sha256, this.#o.blobWaitMs);
  }

  async #inputs(unit: HeldUnit): Promise<{ a: CsrMatrix; bs: Float64Array[] } | null> {
    const { task } = unit;
    try {
      let a: CsrMatrix;
      if (this.#matrix?.sha256 === task.matrix.sha256) a = this.#matrix.a;
      else {
        const bytes = await this.#fetch(task.matrix.sha256);
        if (stopped(unit)) return null;
        a = decodeCsr(bytes);
        const nnz = a.rowPtr[a.rows] ?? 0;
        if (a.rows !== task.matrix.rows || a.cols !== task.matrix.cols || nnz !== task.matrix.nnz) {
          this.#sendError(
            unit,
            "invalid_input",
            `matrix is ${a.rows}×${a.cols} with ${nnz} nonzeros; the assignment says ` +
              `${task.matrix.rows}×${task.matrix.cols} with ${task.matrix.nnz}`,
          );
          return null;
        }
        this.#matrix = { sha256: task.matrix.sha256, a };
      }
      const bs: Float64Array[] = [];
      for (const ref of task.rhs) {
        const bytes = await this.#fetch(ref.sha256);
        if (stopped(unit)) return null;
        bs.push(decodeVector(bytes, a.rows));
      }
      return { a, bs };
    } catch (error) {
      if (isJobError(error)) this.#sendError(unit, "invalid_input", error.message);
      else if (error instanceof BlobWaitTimeout) this.#sendError(unit, "internal", error.message);
      else throw error;
      return null;
    }
  }

  /** Resolves true once the unit's result was sent. */
  async #run(unit: HeldUnit): Promise<boolean> {
    const { task } = unit;
    this.#setCurrent(unit, 0, null, null);
    const inputs = await this.#inputs(unit);
    if (inputs === null || stopped(unit)) return false;
    const { a, bs } = inputs;
    const solutions: UnitSolution[] = [];
    const blobs: Uint8Array<ArrayBuffer>[] = [];
    let computeMs = 0;
    for (let i = 0; i < bs.length; i++) {
      let lastProgressMs = 0;
      this.#busy.start();
      const outcome = await this.#o.solver
        .solve(
          a,
          bs[i]!,
          {
            method: task.method,
            ...(task.preconditioner !== undefined ? { preconditioner: task.preconditioner } : {}),
            tol: task.tol,
            maxIter: task.maxIter,
            backend: task.backend === "webgpu" ? "webgpu" : "auto",
            updateEvery: this.#cpuShare < 0.5 ? 50 : 10,
          },
          {
            signal: unit.stop.signal,
            onProgress: (p) => {
              if (stopped(unit)) return;
              const progress = (i + residualProgress(p.relResidual, task.tol)) / bs.length;
              this.#setCurrent(unit, progress, p.iteration, p.relResidual);
              const now = this.#o.nowMs();
              if (now - lastProgressMs < this.#o.progressIntervalMs) return;
              lastProgressMs = now;
              this.#send(unit.requesterId, {
                type: "unit-progress",
                jv: JOB_PROTOCOL_VERSION,
                unitId: unit.unitId,
                attempt: unit.attempt,
                rhsDone: i,
                rhsTotal: bs.length,
                iteration: Math.max(0, Math.min(p.iteration, task.maxIter)),
                relResidual: Number.isFinite(p.relResidual) && p.relResidual >= 0 ? p.relResidual : null,
                backend: this.#lastBackend,
              });
            },
          },
        )
        .finally(() => this.#busy.stop());
      if (stopped(unit)) return false;
      if (!outcome.ok) {
        this.#sendError(unit, "internal", `${outcome.code}: ${outcome.message}`);
        return false;
      }
      const { solved } = outcome;
      this.#lastBackend = solved.backend;
      computeMs += solved.ms;
      const reported = this.#fault !== null ? this.#fault.corrupt(solved) : solved;
      const bytes = encodeVector(reported.x);
      blobs.push(bytes);
      solutions.push(toWireSolution(reported, await blobRefOf(bytes)));
    }
    // Blobs first: when the signed result arrives, its solutions are already at the requester.
    for (const bytes of blobs) {
      await this.#o.link.sendBlob(unit.requesterId, bytes);
      if (stopped(unit)) return false;
    }
    await this.#o.link.sendBody(unit.requesterId, {
      type: "unit-result",
      jv: JOB_PROTOCOL_VERSION,
      unitId: unit.unitId,
      attempt: unit.attempt,
      backend: this.#lastBackend,
      computeMs,
      solutions,
    });
    this.#resultsSent = { ...this.#resultsSent, [unit.unitId]: (this.#resultsSent[unit.unitId] ?? 0) + 1 };
    this.#unitsDone++;
    if (!this.#served.includes(unit.requesterId)) this.#served = [...this.#served, unit.requesterId];
    return true;
  }

  #setCurrent(unit: HeldUnit, progress: number, iteration: number | null, residual: number | null): void {
    this.#current = {
      unitId: unit.unitId,
      jobId: unit.jobId,
      requesterId: unit.requesterId,
      progress,
      iteration,
      residual,
      backend: iteration === null ? null : this.#lastBackend,
    };
    // Progress arrives every few iterations: the view needs a few updates a second, not thousands.
    const now = this.#o.nowMs();
    if (iteration !== null && now - this.#lastEmitMs < 100) return;
    this.#lastEmitMs = now;
    this.#emit();
  }

  #emit(): void {
    this.#onChange(this.snapshot());
  }
}
