import type { CsrMatrix } from "../../sparse/csr.ts";
import { BlobWaitTimeout, type BlobCache } from "../../base/blob-cache.ts";
import { isJobError } from "../../protocol/job-errors.ts";
import type { JobLink } from "../job-link.ts";
import {
  JOB_PROTOCOL_VERSION,
  toWireSolution,
  type UnitErrorCode,
  type UnitSolution,
} from "../../protocol/jobs.ts";
import type { BackendName } from "../../protocol/solver-names.ts";
import { blobRefOf, decodeCsr, decodeVector, encodeVector } from "../payload.ts";
import type { BusyMeter } from "./busy-meter.ts";
import { residualProgress, stopped, type HeldUnit } from "./held-unit.ts";
import type { UnitSolver } from "./unit-solver.ts";
import type { VolunteerFault } from "./volunteer-fault.ts";

/**
 * Running one held unit, start to end: fetch its inputs by digest, validate them (payload.ts: inputs that
 * fail are answered "invalid_input" and never run), solve one right-hand side after another in the solver
 * worker (progress to the requester at most every `progressIntervalMs`, the first one after that long),
 * then send the signed unit-result with its solutions (attached, or as blobs before it when large). The runtime (runtime.ts) decides which unit runs and when.
 */
export interface UnitRunOptions {
  readonly link: JobLink;
  readonly cache: BlobCache;
  readonly solver: UnitSolver;
  /** TEST ONLY: corrupt results (volunteer-fault.ts); null on every real volunteer. */
  readonly fault: VolunteerFault | null;
  readonly busy: BusyMeter;
  readonly nowMs: () => number;
  readonly blobWaitMs: number;
  readonly progressIntervalMs: number;
  /** The person's CPU share now (a low one asks the solver for fewer progress callbacks). */
  readonly cpuShare: () => number;
  /** Where the unit is, for the page (iteration null: still fetching). */
  readonly setCurrent: (
    unit: HeldUnit,
    progress: number,
    iteration: number | null,
    residual: number | null,
  ) => void;
  readonly sendError: (unit: HeldUnit, code: UnitErrorCode, detail: string) => void;
}

/** Solutions attached to the result message, together at most (more go as blobs of their own first). */
const ATTACH_MAX_BYTES = 256 * 1024;

export class UnitRunner {
  /** The decoded matrix of the most recent unit: consecutive units of a multi-rhs job share it. */
  #matrix: { sha256: string; a: CsrMatrix } | null = null;
  /** The backend the last solve ran on (progress messages name it before the next solve says). */
  lastBackend: BackendName = "js";

  constructor(private readonly o: UnitRunOptions) {}

  /** Resolves true once the unit's result was sent. */
  async run(unit: HeldUnit): Promise<boolean> {
    const { task } = unit;
    this.o.setCurrent(unit, 0, null, null);
    const inputs = await this.#inputs(unit);
    if (inputs === null || stopped(unit)) return false;
    const { a, bs } = inputs;
    const solutions: UnitSolution[] = [];
    const blobs: Uint8Array<ArrayBuffer>[] = [];
    let computeMs = 0;
    for (let i = 0; i < bs.length; i++) {
      let lastProgressMs = 0;
      this.o.busy.start();
      const outcome = await this.o.solver
        .solve(
          a,
          bs[i]!,
          {
            method: task.method,
            ...(task.preconditioner !== undefined ? { preconditioner: task.preconditioner } : {}),
            tol: task.tol,
            maxIter: task.maxIter,
            backend: task.backend === "webgpu" ? "webgpu" : "auto",
            updateEvery: this.o.cpuShare() < 0.5 ? 50 : 10,
          },
          {
            signal: unit.stop.signal,
            onProgress: (p) => {
              if (stopped(unit)) return;
              const progress = (i + residualProgress(p.relResidual, task.tol)) / bs.length;
              this.o.setCurrent(unit, progress, p.iteration, p.relResidual);
              const now = this.o.nowMs();
              if (now - lastProgressMs < this.o.progressIntervalMs) return;
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
                backend: this.lastBackend,
              });
            },
          },
        )
        .finally(() => this.o.busy.stop());
      if (stopped(unit)) return false;
      if (!outcome.ok) {
        this.o.sendError(unit, "internal", `${outcome.code}: ${outcome.message}`);
        return false;
      }
      const { solved } = outcome;
      this.lastBackend = solved.backend;
      computeMs += solved.ms;
      const reported = this.o.fault !== null ? this.o.fault.corrupt(solved) : solved;
      const bytes = encodeVector(reported.x);
      blobs.push(bytes);
      solutions.push(toWireSolution(reported, await blobRefOf(bytes)));
    }
    // Small solutions travel in the result's own message; larger ones as blobs first, so that when the
    // signed result arrives its solutions are already at the requester.
    const attach = blobs.reduce((sum, b) => sum + b.length, 0) <= ATTACH_MAX_BYTES;
    if (!attach) {
      for (const bytes of blobs) {
        await this.o.link.sendBlob(unit.requesterId, bytes);
        if (stopped(unit)) return false;
      }
    }
    await this.o.link.sendBody(
      unit.requesterId,
      {
        type: "unit-result",
        jv: JOB_PROTOCOL_VERSION,
        unitId: unit.unitId,
        attempt: unit.attempt,
        backend: this.lastBackend,
        computeMs,
        solutions,
      },
      attach ? blobs.map((bytes, i) => ({ sha256: solutions[i]!.x.sha256, bytes })) : [],
    );
    return true;
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
          this.o.sendError(
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
      if (isJobError(error)) this.o.sendError(unit, "invalid_input", error.message);
      else if (error instanceof BlobWaitTimeout) this.o.sendError(unit, "internal", error.message);
      else throw error;
      return null;
    }
  }

  async #fetch(sha256: string): Promise<Uint8Array> {
    return this.o.cache.waitFor(sha256, this.o.blobWaitMs);
  }

  #send(to: string, body: Parameters<JobLink["sendBody"]>[1]): void {
    this.o.link.sendBody(to, body).catch(() => undefined);
  }
}
