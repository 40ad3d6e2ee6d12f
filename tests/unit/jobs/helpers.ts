import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type {
  SolveJob,
  SolveJobSpec,
  VolunteerCapabilities,
  VolunteerInfo,
} from "../../../src/core/jobs/model.ts";
import { ReputationBook } from "../../../src/core/trust/reputation.ts";
import {
  Scheduler,
  type SchedulerAction,
  type SchedulerOptions,
} from "../../../src/core/jobs/scheduler/scheduler.ts";
import { planJob, type JobPlan } from "../../../src/core/jobs/split.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import type { ResultRow } from "../../../src/core/jobs/job-store.ts";
import { parseMatrixMarket } from "../../../src/core/sparse/matrix-market.ts";
import { seededRandom } from "../../../src/node/seeded-random.ts";

/** The shared SuiteSparse folder (read-only, never copied into the repo). */
const MATRIX_DIR = new URL("../../../../shared/matrices/", import.meta.url);

export function loadMatrix(name: string): CsrMatrix {
  return parseMatrixMarket(readFileSync(fileURLToPath(new URL(`${name}.mtx`, MATRIX_DIR)), "utf8"));
}

export { seededRandom } from "../../../src/node/seeded-random.ts";

/** A clock the test moves by hand. */
export class ManualClock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const CPU: VolunteerCapabilities = { webgpu: false, memoryBytes: 1024 ** 3, benchmarkMflops: 500 };
export const GPU: VolunteerCapabilities = { webgpu: true, memoryBytes: 4 * 1024 ** 3, benchmarkMflops: 500 };

/** Peer ids as the identity layer makes them ("os" + 32 hex). */
export function peerId(n: number): string {
  return "os" + n.toString(16).padStart(32, "0");
}

export function volunteer(n: number, capabilities: VolunteerCapabilities = CPU): VolunteerInfo {
  return { peerId: peerId(n), capabilities };
}

const HEX64 = "a".repeat(64);

export function spec(
  overrides: Partial<SolveJobSpec> = {},
  rhsCount = 1,
  rows = 100,
  nnz = 500,
): SolveJobSpec {
  return {
    matrix: { sha256: HEX64, byteLength: 1000, rows, cols: rows, nnz },
    rhs: Array.from({ length: rhsCount }, (_, i) => ({
      sha256: i.toString(16).padStart(64, "0"),
      byteLength: 8 * rows,
    })),
    method: "cg",
    maxIter: 1000,
    ...overrides,
  };
}

export function multiRhsPlan(
  id: string,
  rhsCount: number,
  createdAtMs = 0,
  extra: Partial<SolveJobSpec> = {},
): JobPlan {
  return planJob({
    id,
    kind: "multi-rhs",
    spec: spec(extra, rhsCount),
    tolerance: 1e-8,
    createdAtMs,
  });
}

export function newScheduler(
  clock: ManualClock,
  seed = 1,
  options: Partial<SchedulerOptions> = {},
): Scheduler {
  return new Scheduler({
    nowMs: clock.now,
    random: seededRandom(seed),
    reputation: new ReputationBook(),
    ...options,
  });
}

export function addPlan(s: Scheduler, plan: JobPlan): SolveJob {
  s.addJob(plan.job, plan.units);
  return plan.job;
}

export type AssignAction = Extract<SchedulerAction, { type: "assign" }>;

export function assigns(actions: readonly SchedulerAction[]): AssignAction[] {
  return actions.filter((a): a is AssignAction => a.type === "assign");
}

export function ofType<T extends SchedulerAction["type"]>(
  actions: readonly SchedulerAction[],
  type: T,
): Extract<SchedulerAction, { type: T }>[] {
  return actions.filter((a): a is Extract<SchedulerAction, { type: T }> => a.type === type);
}

/** A stored, unverified result of job-1 with one small solution (for the write-path tests). */
export function resultRow(unitId: string, attempt: number, envelope: string | null = null): ResultRow {
  return {
    unitId,
    attempt,
    jobId: "job-1",
    volunteerId: "os-volunteer",
    receivedAtMs: 1,
    xs: [Float64Array.of(1, 2, 3)],
    relResiduals: null,
    verified: false,
    envelope,
  };
}
