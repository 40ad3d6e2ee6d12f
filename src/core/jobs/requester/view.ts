import type { UnitProgress } from "../../protocol/jobs.ts";

/**
 * What the requester's views show beyond the scheduler's own state: the live progress of each unit, the
 * requester's own certificate per verified unit, each job's residual history, how many result bodies each
 * unit got, and the statistics of this session's finished distributed solves. Memory only: none of it is
 * needed to resume.
 */

export interface UnitLiveProgress {
  readonly attempt: number;
  readonly rhsDone: number;
  readonly rhsTotal: number;
  readonly iteration: number;
  readonly relResidual: number | null;
  readonly backend: UnitProgress["backend"];
}

export interface DistributedStats {
  failovers: number;
  /** Block holders the coordinator's audit caught sending wrong values (distributed/audit.ts). */
  blamed: number;
  iterations: number;
  relResidual: number;
  label: string;
}

/** Points kept per job (older ones are dropped first). */
const RESIDUAL_HISTORY_CAP = 2_000;

export class RequesterView {
  readonly #progress = new Map<string, UnitLiveProgress>();
  /** The requester's own certificate per verified unit (worst over its solutions). */
  readonly #unitResidual = new Map<string, number>();
  readonly #residualHistory = new Map<string, { iteration: number; residual: number }[]>();
  /** unit-result bodies received per unit id (accepted or not). */
  readonly #resultsReceived = new Map<string, number>();
  /** Distributed solves of this session that finished, by job id. */
  readonly #distributedStats = new Map<string, DistributedStats>();

  progressOf(unitId: string): UnitLiveProgress | null {
    return this.#progress.get(unitId) ?? null;
  }

  setProgress(unitId: string, progress: UnitLiveProgress): void {
    this.#progress.set(unitId, progress);
  }

  /** Shows a unit's known progress (if any) with `rhsDone` right-hand sides done ("all": rhsTotal). */
  markRhsDone(unitId: string, rhsDone: number | "all"): void {
    const p = this.#progress.get(unitId);
    if (p !== undefined)
      this.#progress.set(unitId, { ...p, rhsDone: rhsDone === "all" ? p.rhsTotal : rhsDone });
  }

  unitResidual(unitId: string): number | null {
    return this.#unitResidual.get(unitId) ?? null;
  }

  setUnitResidual(unitId: string, relResidual: number): void {
    this.#unitResidual.set(unitId, relResidual);
  }

  /** Takes the certificates of stored verified results (worst over each unit's solutions). */
  loadUnitResiduals(rows: Iterable<{ unitId: string; relResiduals: readonly number[] | null }>): void {
    for (const row of rows) {
      if (row.relResiduals !== null) this.#unitResidual.set(row.unitId, Math.max(...row.relResiduals));
    }
  }

  residualHistory(jobId: string): readonly { iteration: number; residual: number }[] {
    return this.#residualHistory.get(jobId) ?? [];
  }

  pushResidual(jobId: string, iteration: number, residual: number): void {
    let points = this.#residualHistory.get(jobId);
    if (points === undefined) this.#residualHistory.set(jobId, (points = []));
    points.push({ iteration, residual });
    if (points.length > RESIDUAL_HISTORY_CAP) points.splice(0, points.length - RESIDUAL_HISTORY_CAP);
  }

  resultsReceived(unitId: string): number {
    return this.#resultsReceived.get(unitId) ?? 0;
  }

  countResult(unitId: string): void {
    this.#resultsReceived.set(unitId, (this.#resultsReceived.get(unitId) ?? 0) + 1);
  }

  distributedStats(jobId: string): DistributedStats | null {
    return this.#distributedStats.get(jobId) ?? null;
  }

  setDistributedStats(jobId: string, stats: DistributedStats): void {
    this.#distributedStats.set(jobId, stats);
  }
}
