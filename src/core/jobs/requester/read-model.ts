import type { SolveJob, WorkUnit } from "../model.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { JobCatalog } from "./job-catalog.ts";
import {
  RequesterView,
  type DistributedStats,
  type ResidualSeries,
  type UnitClaims,
  type UnitLiveProgress,
} from "./view.ts";

/**
 * What the requester runtime answers views from, without side effects: its jobs (scheduler and earlier
 * sessions, job-catalog.ts) and what only this session's messages knew (view.ts). RequesterRuntime
 * extends it with everything that acts (runtime.ts).
 */
export abstract class RequesterReadModel {
  protected readonly view = new RequesterView();
  protected readonly catalog: JobCatalog;

  protected constructor(scheduler: Scheduler) {
    this.catalog = new JobCatalog(scheduler);
  }

  /** This session's and running jobs (scheduler), then earlier finished ones; newest first. */
  jobs(): SolveJob[] {
    return this.catalog.jobs();
  }

  nameOf(jobId: string): string {
    return this.catalog.nameOf(jobId);
  }

  units(jobId: string): WorkUnit[] {
    return this.catalog.units(jobId);
  }

  progressOf(unitId: string): UnitLiveProgress | null {
    return this.view.progressOf(unitId);
  }

  unitResidual(unitId: string): number | null {
    return this.view.unitResidual(unitId);
  }

  /** The lines of a job's residual chart: one per unit (per right-hand side), each ending certified. */
  residualSeries(jobId: string): readonly ResidualSeries[] {
    return this.view.residualSeries(jobId);
  }

  /** What a verified unit's result claimed: final iteration and the volunteer's own residual. */
  unitClaims(unitId: string): UnitClaims | null {
    return this.view.unitClaims(unitId);
  }

  /** The worst certified residual saved when the job finished (for jobs whose units are not loaded). */
  savedWorstResidual(jobId: string): number | null {
    return this.view.savedWorstResidual(jobId);
  }

  /** The seed the job's random right-hand sides were made from; null if b was not random. */
  rhsSeed(jobId: string): number | null {
    return this.catalog.rhsSeed(jobId) ?? null;
  }

  resultsReceived(unitId: string): number {
    return this.view.resultsReceived(unitId);
  }

  /** Failovers, iterations and certificate of this session's finished distributed solves. */
  distributedStats(jobId: string): DistributedStats | null {
    return this.view.distributedStats(jobId);
  }
}
