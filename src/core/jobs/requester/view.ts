import type { UnitProgress } from "../../protocol/jobs.ts";

/**
 * What the requester's views show beyond the scheduler's own state: the live progress of each unit, the
 * requester's own certificate per verified unit, each job's residual history, how many result bodies each
 * unit got, what each verified unit's volunteer claimed in its result (final iteration, its own residual)
 * and the statistics of this session's finished distributed solves. None of it is needed to resume; what a
 * finished job's page shows (history, claims, worst certificate) is saved by view-snapshot.ts so a reload
 * still shows it.
 */

export interface UnitLiveProgress {
  readonly attempt: number;
  readonly rhsDone: number;
  readonly rhsTotal: number;
  readonly iteration: number;
  readonly relResidual: number | null;
  readonly backend: UnitProgress["backend"];
}

/** What a volunteer's result said about how it ended (the requester certifies the residual itself). */
export interface UnitClaims {
  /** The largest iteration count over the unit's solutions. */
  readonly iterations: number;
  /** The volunteer's own final residual (worst over its solutions); null if it did not say. */
  readonly relResidual: number | null;
}

export interface ResidualHistoryPoint {
  readonly iteration: number;
  readonly residual: number;
}

export interface DistributedStats {
  failovers: number;
  iterations: number;
  relResidual: number;
  label: string;
}

/** Points kept per job (older ones are dropped first). */
export const RESIDUAL_HISTORY_CAP = 2_000;

export class RequesterView {
  readonly #progress = new Map<string, UnitLiveProgress>();
  /** The requester's own certificate per verified unit (worst over its solutions). */
  readonly #unitResidual = new Map<string, number>();
  /** What each verified unit's result claimed (final iteration and residual). */
  readonly #unitClaims = new Map<string, UnitClaims>();
  /** Worst certificate of finished jobs whose units are not loaded (from their saved snapshot). */
  readonly #savedWorst = new Map<string, number>();
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

  unitClaims(unitId: string): UnitClaims | null {
    return this.#unitClaims.get(unitId) ?? null;
  }

  setUnitClaims(unitId: string, claims: UnitClaims): void {
    this.#unitClaims.set(unitId, claims);
  }

  /** The worst certificate a saved snapshot recorded for a job (null if none was saved). */
  savedWorstResidual(jobId: string): number | null {
    return this.#savedWorst.get(jobId) ?? null;
  }

  setSavedWorstResidual(jobId: string, worst: number): void {
    this.#savedWorst.set(jobId, worst);
  }

  residualHistory(jobId: string): readonly ResidualHistoryPoint[] {
    return this.#residualHistory.get(jobId) ?? [];
  }

  /** Replaces a job's history with saved points (after a reload), keeping the newest RESIDUAL_HISTORY_CAP. */
  restoreResidualHistory(jobId: string, points: readonly ResidualHistoryPoint[]): void {
    if (this.#residualHistory.has(jobId)) return; // live points of this session win
    this.#residualHistory.set(jobId, points.slice(-RESIDUAL_HISTORY_CAP));
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
