import type { UnitProgress } from "../../protocol/jobs.ts";
import type { WorkUnit } from "../model.ts";

/**
 * What the requester's views show beyond the scheduler's own state: the live progress of each unit, the
 * requester's own certificate per verified unit, each job's residual chart lines, how many result bodies
 * each unit got, what each verified unit's volunteer claimed in its result (final iteration, its own
 * residual) and the statistics of this session's finished distributed solves. None of it is needed to
 * resume; what a job's page shows (chart lines, claims, worst certificate) is saved by view-snapshot.ts so a
 * reload still shows it.
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

export interface DistributedStats {
  failovers: number;
  /** Block holders the coordinator's audit caught sending wrong values (distributed/audit.ts). */
  blamed: number;
  /** In total, counted from zero (those before resumedFrom were done by an earlier session). */
  iterations: number;
  /** The persisted checkpoint iteration this session resumed the solve from (0: from zero). */
  resumedFrom: number;
  /** How halos travelled at the end, and how often peer routing fell back (distributed/coordinator.ts). */
  haloRouting: "peer" | "coordinator";
  peerFallbacks: number;
  /** Peer routing: halo parts the requester relayed for holders without a link, and their block pairs. */
  relayedHaloParts: number;
  relayedHaloPairs: number;
  relResidual: number;
  label: string;
}

/** Points kept per line of a job's chart (thinned beyond; a job may have thousands of lines). */
export const RESIDUAL_POINTS_CAP = 400;

export interface ResidualPoint {
  readonly iteration: number;
  readonly residual: number;
}

/**
 * One line of a job's residual chart: a unit (one right-hand side of it when it holds several), or the
 * distributed solve's global residual. Progress reports of the unit's current attempt, then the
 * requester's own certificate at the solve's last iteration once verified.
 */
export interface ResidualSeries {
  readonly key: string;
  readonly label: string;
  readonly points: readonly ResidualPoint[];
  /** The last point is the requester's certificate. */
  readonly certified: boolean;
}

interface SeriesState {
  label: string;
  attempt: number;
  points: ResidualPoint[];
  certified: boolean;
  /** A new array per change: views compare by identity. */
  frozen: ResidualSeries | null;
}

/**
 * The chart line of a unit's `rhs`-th right-hand side (0-based within the unit), or null when the unit
 * has no such right-hand side (the index came from a peer). One line per unit when it holds one.
 */
export function residualLineOf(unit: WorkUnit, rhs: number): { key: string; label: string } | null {
  const { task } = unit;
  if (task.kind !== "rhs-group") return { key: unit.id, label: `unit ${unit.index}` };
  if (!Number.isInteger(rhs) || rhs < 0 || rhs >= task.rhsCount) return null;
  if (task.rhsCount === 1) return { key: unit.id, label: `unit ${unit.index}` };
  return { key: `${unit.id}#${rhs}`, label: `unit ${unit.index} · rhs ${task.rhsStart + rhs}` };
}

export class RequesterView {
  readonly #progress = new Map<string, UnitLiveProgress>();
  /** The requester's own certificate per verified unit (worst over its solutions). */
  readonly #unitResidual = new Map<string, number>();
  /** What each verified unit's result claimed (final iteration and residual). */
  readonly #unitClaims = new Map<string, UnitClaims>();
  /** Worst certificate of finished jobs whose units are not loaded (from their saved snapshot). */
  readonly #savedWorst = new Map<string, number>();
  /** Per job, its chart's lines by key, in the order they appeared. */
  readonly #residualSeries = new Map<string, Map<string, SeriesState>>();
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

  /** Puts saved chart lines back (after a reload); a job that already has lines this session keeps them. */
  restoreResidualSeries(jobId: string, series: readonly ResidualSeries[]): void {
    if (this.#residualSeries.has(jobId)) return;
    const lines = new Map<string, SeriesState>();
    for (const line of series) {
      const points = line.points.slice(-RESIDUAL_POINTS_CAP);
      lines.set(line.key, { label: line.label, attempt: 0, points, certified: line.certified, frozen: null });
    }
    this.#residualSeries.set(jobId, lines);
  }

  residualSeries(jobId: string): readonly ResidualSeries[] {
    const lines = this.#residualSeries.get(jobId);
    if (lines === undefined) return [];
    return [...lines.entries()].map(([key, line]) => {
      line.frozen ??= { key, label: line.label, points: [...line.points], certified: line.certified };
      return line.frozen;
    });
  }

  #line(jobId: string, key: string, label: string, attempt: number): SeriesState {
    let lines = this.#residualSeries.get(jobId);
    if (lines === undefined) this.#residualSeries.set(jobId, (lines = new Map()));
    let line = lines.get(key);
    // A new attempt solves from scratch: its iterations start again, so the old ones would zigzag.
    if (line === undefined || attempt > line.attempt) {
      line = { label, attempt, points: [], certified: false, frozen: null };
      lines.set(key, line);
    }
    return line;
  }

  /** A progress report of `attempt` (older attempts' reports are ignored). */
  pushResidual(jobId: string, key: string, label: string, attempt: number, point: ResidualPoint): void {
    const line = this.#line(jobId, key, label, attempt);
    if (attempt < line.attempt || line.certified) return;
    line.points.push(point);
    // Every other point once full: a long solve keeps its whole shape in bounded memory.
    if (line.points.length > RESIDUAL_POINTS_CAP) {
      line.points = line.points.filter((_, i) => i % 2 === 0 || i === line.points.length - 1);
    }
    line.frozen = null;
  }

  /**
   * The requester's certificate as the line's last point, at the iteration the solve ended (at least the
   * last one reported): a solve that ended in a direct LU reaches its certified residual here.
   */
  certify(jobId: string, key: string, label: string, attempt: number, point: ResidualPoint): void {
    const line = this.#line(jobId, key, label, attempt);
    if (attempt < line.attempt) return;
    if (line.certified) line.points.pop(); // verified again (after a reload): one certificate
    const lastIteration = line.points.at(-1)?.iteration ?? 0;
    line.points.push({ iteration: Math.max(point.iteration, lastIteration), residual: point.residual });
    line.certified = true;
    line.frozen = null;
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
