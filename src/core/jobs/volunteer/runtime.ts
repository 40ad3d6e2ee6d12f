import type { BlobCache } from "../../base/blob-cache.ts";
import { DistributedVolunteer } from "../distributed/index.ts";
import type { BlockHostFactory } from "../../distributed/index.ts";
import type { JobBodyEvent, JobLink } from "../job-link.ts";
import {
  JOB_PROTOCOL_VERSION,
  MAX_DETAIL_CHARS,
  type UnitAssign,
  type UnitErrorCode,
} from "../../protocol/jobs.ts";
import type { UnitSolver } from "./unit-solver.ts";
import type { VolunteerFault } from "./volunteer-fault.ts";
import { UnitLog, type UnitLogOutcome } from "./unit-log.ts";
import { BusyMeter } from "./busy-meter.ts";
import { jobIdOf, keyOf, stopped, type HeldUnit } from "./held-unit.ts";
import { PauseState, type VisibilitySource } from "./pause-state.ts";
import type { VolunteerSnapshot } from "./snapshot.ts";
import { UnitRunner } from "./unit-run.ts";

/**
 * The volunteer side of a tab (or Node peer): takes unit assignments from any requester, holds them
 * (heartbeating meanwhile) and runs them one at a time, in arrival order (unit-run.ts runs one: fetch,
 * validate, solve, send the result).
 *
 * The person at the tab stays in charge: pause (the running unit is cancelled within a second, queued and
 * new ones are declined), a CPU share (a duty cycle: after a unit that kept the core busy for T ms it idles
 * T·(1 − share)/share ms), an optional pause while the tab is hidden and an optional pause while the machine
 * runs on battery (pause-state.ts). What it did is logged (unit-log.ts) and its busy time measured
 * (busy-meter.ts).
 */

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
  /** Where distributed-solve blocks run (default: this thread; a tab passes Web Workers, Node threads). */
  readonly blockHost?: BlockHostFactory;
  readonly onChange?: (snapshot: VolunteerSnapshot) => void;
}

/** The `current.backend` of a snapshot while a distributed block is what this volunteer computes. */
export const BLOCK_BACKEND = "js (distributed block)";

const clipDetail = (s: string): string => (s.length > MAX_DETAIL_CHARS ? s.slice(0, MAX_DETAIL_CHARS) : s);

export class VolunteerRuntime {
  readonly #o: Required<Omit<VolunteerRuntimeOptions, "fault" | "visibility" | "onChange" | "blockHost">>;
  readonly #pause: PauseState;
  readonly #runner: UnitRunner;
  readonly #onChange: (snapshot: VolunteerSnapshot) => void;
  readonly #held = new Map<string, HeldUnit>();
  readonly #offs: (() => void)[] = [];
  #running: HeldUnit | null = null;
  #pumping = false;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #log = new UnitLog();
  readonly #busy: BusyMeter;
  #cpuShare = 1;
  #unitsDone = 0;
  #served: string[] = [];
  #resultsSent: Record<string, number> = {};
  #current: VolunteerSnapshot["current"] = null;
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
    const fault = options.fault ?? null;
    this.#busy = new BusyMeter(this.#o.nowMs);
    const visibility = options.visibility ?? null;
    this.#pause = new PauseState(visibility);
    this.#onChange = options.onChange ?? (() => undefined);
    const { link, cache } = this.#o;
    this.#offs.push(
      link.onBody((event) => this.#onBody(event)),
      link.onBlob((_from, sha256, bytes) => cache.put(sha256, bytes)),
      link.onPeerClosed((peerId) => this.#dropRequester(peerId)),
    );
    if (visibility) this.#offs.push(visibility.onChange(() => this.#pausedChanged()));
    this.#runner = new UnitRunner({
      ...this.#o,
      fault,
      busy: this.#busy,
      cpuShare: () => this.#cpuShare,
      setCurrent: (unit, progress, iteration, residual) =>
        this.#setCurrent(unit, progress, iteration, residual),
      sendError: (unit, code, detail) => this.#sendError(unit, code, detail),
    });
    const blockFault = fault?.corruptBlockReply?.bind(fault);
    this.distributed = new DistributedVolunteer(link, {
      ...(blockFault !== undefined ? { corruptReply: blockFault } : {}),
      ...(options.blockHost !== undefined ? { blockHost: options.blockHost } : {}),
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
    return this.#pause.reason() !== null;
  }

  pause(): void {
    this.#pause.userPaused = true;
    this.#pausedChanged();
  }

  resume(): void {
    this.#pause.userPaused = false;
    this.#pausedChanged();
  }

  setCpuShare(share: number): void {
    if (!Number.isFinite(share)) return;
    this.#cpuShare = Math.min(1, Math.max(0.1, share));
    this.#emit();
  }

  setPauseWhenHidden(value: boolean): void {
    this.#pause.pauseWhenHidden = value;
    this.#pausedChanged();
  }

  /** "Only on AC power": pause while the machine is on battery. */
  setPauseOnBattery(value: boolean): void {
    this.#pause.pauseOnBattery = value;
    this.#pausedChanged();
  }

  /** The page's Battery Status API says whether the machine is discharging. */
  setOnBattery(discharging: boolean): void {
    if (this.#pause.onBattery === discharging) return;
    this.#pause.onBattery = discharging;
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
              backend: BLOCK_BACKEND,
            },
      unitsDone: this.#unitsDone,
      requestersServed: this.#served,
      cpuShare: this.#cpuShare,
      pauseWhenHidden: this.#pause.pauseWhenHidden,
      resultsSent: this.#resultsSent,
      pauseReason: this.#pause.reason(),
      pauseOnBattery: this.#pause.pauseOnBattery,
      onBattery: this.#pause.onBattery,
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
    void this.#runner
      .run(unit)
      .then((sent) => {
        if (sent) this.#resultSent(unit);
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

  #resultSent(unit: HeldUnit): void {
    this.#resultsSent = { ...this.#resultsSent, [unit.unitId]: (this.#resultsSent[unit.unitId] ?? 0) + 1 };
    this.#unitsDone++;
    if (!this.#served.includes(unit.requesterId)) this.#served = [...this.#served, unit.requesterId];
  }

  #setCurrent(unit: HeldUnit, progress: number, iteration: number | null, residual: number | null): void {
    this.#current = {
      unitId: unit.unitId,
      jobId: unit.jobId,
      requesterId: unit.requesterId,
      progress,
      iteration,
      residual,
      backend: iteration === null ? null : this.#runner.lastBackend,
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
