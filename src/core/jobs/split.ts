import { JobError } from "../protocol/job-errors.ts";
import { MAX_MAX_ITER, MAX_RHS_PER_UNIT } from "../protocol/jobs.ts";
import {
  JOB_ID_PATTERN,
  type SolveJob,
  type JobKind,
  type SolveJobSpec,
  type UnitRequirements,
  type UnitTask,
} from "./model.ts";
import type { RowPartition } from "../distributed/partition.ts";

/**
 * Turning a submitted job into work units.
 *  - "solve": one unit (a single solve is not split: its iterations are sequential).
 *  - "multi-rhs": one unit per right-hand side, or per group of `rhsPerUnit` of them (groups amortise the
 *    matrix transfer and set-up, e.g. the IC(0) factorisation, over several solves on one volunteer).
 *  - "distributed-solve": one unit per row block of `partitionRows` (partition.ts documents the algorithm);
 *    the blocks of one job must run at the same time, which the distributed-solve runner coordinates.
 */

/** A unit before the scheduler gives it an id, attempt counter and lease. */
export interface UnitDraft {
  readonly index: number;
  readonly task: UnitTask;
  readonly requirements: UnitRequirements;
  readonly costFlops: number;
}

export interface JobInput {
  readonly id: string;
  readonly kind: JobKind;
  readonly spec: SolveJobSpec;
  readonly tolerance: number;
  readonly createdAtMs: number;
}

export interface JobPlan {
  readonly job: SolveJob;
  readonly units: readonly UnitDraft[];
}

/**
 * Worst-case flops of `rhsCount` solves: per iteration one SpMV (2·nnz) and about five vector operations
 * (2·n each), for maxIter iterations. An upper bound: it sizes lease deadlines and ranks volunteers.
 */
export function solveCostFlops(rows: number, nnz: number, maxIter: number, rhsCount: number): number {
  return 2 * (nnz + 5 * rows) * maxIter * rhsCount;
}

/** Vectors of length n a method keeps besides x and b (CG: r, z, p, q and the Jacobi diagonal, ...). */
function workVectors(spec: SolveJobSpec): number {
  switch (spec.method) {
    case "jacobi":
    case "gauss_seidel":
      return 3;
    case "cg":
      return 6;
    case "bicgstab":
      return 9;
    case "gmres":
      return 30 + 6; // default restart 30 Krylov vectors
    case "direct":
    case "hybrid":
    case "auto":
      return 40;
  }
}

/**
 * Working set of solving `rhsCount` systems one after another with the matrix part given: CSR storage
 * (12 bytes per entry + row pointers), an incomplete factorisation of the same size when one is used, the
 * method's vectors, and every right-hand side and solution of the unit. The direct method's fill is not
 * known in advance: it is budgeted as ten times the matrix, the solver's own fill cap refuses the rest.
 */
export function estimateSolveMemoryBytes(
  rows: number,
  nnz: number,
  spec: SolveJobSpec,
  rhsCount: number,
): number {
  const matrix = 12 * nnz + 4 * (rows + 1);
  const factor =
    spec.method === "direct"
      ? 10 * matrix
      : spec.preconditioner === "ic0" || spec.preconditioner === "ilu0"
        ? matrix
        : 0;
  return matrix + factor + 8 * rows * (workVectors(spec) + 2 * rhsCount);
}

function invalid(message: string): never {
  throw new JobError("invalid_spec", message);
}

function validate(input: JobInput): void {
  const { spec, kind } = input;
  if (!JOB_ID_PATTERN.test(input.id)) invalid(`job id "${input.id}" must match ${JOB_ID_PATTERN}`);
  if (!(input.tolerance > 0 && input.tolerance <= 1)) {
    invalid(`tolerance must be in (0, 1], got ${input.tolerance}`);
  }
  if (!Number.isInteger(spec.maxIter) || spec.maxIter < 1 || spec.maxIter > MAX_MAX_ITER) {
    invalid(`maxIter must be an integer in [1, ${MAX_MAX_ITER}], got ${spec.maxIter}`);
  }
  const { rows, cols, nnz } = spec.matrix;
  if (rows !== cols) invalid(`the matrix must be square, got ${rows}×${cols}`);
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(nnz) || nnz < 0) {
    invalid(`matrix size ${rows}×${cols} with ${nnz} nonzeros is not valid`);
  }
  if (spec.rhs.length === 0) invalid("a job needs at least one right-hand side");
  if (kind !== "multi-rhs" && spec.rhs.length !== 1) {
    invalid(`a ${kind} job takes exactly one right-hand side, got ${spec.rhs.length} (use multi-rhs)`);
  }
  const per = spec.rhsPerUnit ?? 1;
  if (!Number.isInteger(per) || per < 1 || per > MAX_RHS_PER_UNIT) {
    invalid(`rhsPerUnit must be an integer in [1, ${MAX_RHS_PER_UNIT}], got ${per}`);
  }
  if (kind === "distributed-solve") {
    const k = spec.blocks;
    if (k === undefined || !Number.isInteger(k) || k < 2 || k > rows) {
      invalid(`a distributed solve needs an integer block count in [2, ${rows}], got ${String(k)}`);
    }
  }
}

function requirements(spec: SolveJobSpec, memoryBytes: number): UnitRequirements {
  return spec.backend === undefined ? { memoryBytes } : { backend: spec.backend, memoryBytes };
}

/**
 * Validates the job (JobError "invalid_spec" with the reason) and drafts its units. A distributed solve
 * needs the row partition of its matrix (`partitionRows(A, spec.blocks)`), which must match the spec.
 */
export function planJob(input: JobInput, partition?: RowPartition): JobPlan {
  validate(input);
  const { spec } = input;
  const { rows, nnz } = spec.matrix;
  const job: SolveJob = {
    id: input.id,
    kind: input.kind,
    spec,
    status: "running",
    createdAtMs: input.createdAtMs,
    tolerance: input.tolerance,
    outcome: null,
  };
  const units: UnitDraft[] = [];
  if (input.kind === "distributed-solve") {
    if (partition === undefined || partition.rows !== rows || partition.blocks.length !== spec.blocks) {
      invalid(`a distributed solve needs the matrix's partition into ${String(spec.blocks)} row blocks`);
    }
    for (const block of partition.blocks) {
      const blockRows = block.rowEnd - block.rowStart;
      units.push({
        index: block.index,
        task: {
          kind: "row-block",
          block: block.index,
          blocks: partition.blocks.length,
          rowStart: block.rowStart,
          rowEnd: block.rowEnd,
        },
        requirements: requirements(
          spec,
          estimateSolveMemoryBytes(blockRows, block.nnz, spec, 1) + 8 * block.haloCols.length,
        ),
        costFlops: solveCostFlops(blockRows, block.nnz, spec.maxIter, 1),
      });
    }
    return { job, units };
  }
  const per = input.kind === "multi-rhs" ? (spec.rhsPerUnit ?? 1) : 1;
  for (let start = 0, index = 0; start < spec.rhs.length; start += per, index++) {
    const count = Math.min(per, spec.rhs.length - start);
    units.push({
      index,
      task: { kind: "rhs-group", rhsStart: start, rhsCount: count },
      requirements: requirements(spec, estimateSolveMemoryBytes(rows, nnz, spec, count)),
      costFlops: solveCostFlops(rows, nnz, spec.maxIter, count),
    });
  }
  return { job, units };
}
