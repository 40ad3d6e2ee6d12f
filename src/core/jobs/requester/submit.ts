import type { CsrMatrix } from "../../sparse/csr.ts";
import type { MethodName, PreconditionerName } from "../../solver/types.ts";
import { JobError } from "../../protocol/job-errors.ts";
import { newJobId, type BlobRef, type JobKind, type MatrixRef, type UnitBackend } from "../model.ts";
import { blobRefOf, encodeCsr, encodeVector } from "../payload.ts";
import { partitionRows } from "../../distributed/partition.ts";
import { singularityOf } from "../../solver/singularity.ts";
import { planJob } from "../split.ts";

/** What a tab asks to solve: turned into a planned job (and its encoded inputs) by prepareSubmission. */
export interface SubmitInput {
  readonly name: string;
  readonly kind: JobKind;
  readonly a: CsrMatrix;
  readonly rhs: readonly Float64Array[];
  readonly method: MethodName;
  readonly preconditioner?: PreconditionerName;
  readonly tol: number;
  readonly maxIter: number;
  readonly rhsPerUnit?: number;
  readonly backend?: UnitBackend;
  /** distributed-solve: number of row blocks (≥ 2). */
  readonly blocks?: number;
  /** The seed random right-hand sides were made from (seeded-random.ts), kept so the page can show it. */
  readonly rhsSeed?: number;
}

export interface PreparedSubmission {
  readonly id: string;
  readonly nowMs: number;
  readonly plan: ReturnType<typeof planJob>;
  readonly matrix: MatrixRef;
  readonly matrixBytes: Uint8Array<ArrayBuffer>;
  readonly rhs: readonly BlobRef[];
  readonly rhsBytes: readonly Uint8Array<ArrayBuffer>[];
}

/** Checks and encodes the inputs, content-addresses them and plans the job's units (nothing is stored). */
export async function prepareSubmission(
  input: SubmitInput,
  now: () => number,
  random: () => number,
): Promise<PreparedSubmission> {
  const { a } = input;
  // A distributed solve's units are the row blocks of this partition (partitionRows checks k).
  const partition =
    input.kind === "distributed-solve" && input.blocks !== undefined && Number.isInteger(input.blocks)
      ? partitionRows(a, input.blocks)
      : undefined;
  const nowMs = now();
  const matrixBytes = encodeCsr(a);
  const matrix: MatrixRef = {
    ...(await blobRefOf(matrixBytes)),
    rows: a.rows,
    cols: a.cols,
    nnz: a.rowPtr[a.rows] ?? 0,
  };
  const rhsBytes = input.rhs.map((b) => {
    if (b.length !== a.rows) {
      throw new JobError("invalid_spec", `a right-hand side has ${b.length} entries, A has ${a.rows} rows`);
    }
    return encodeVector(b);
  });
  // Refused here, not by every volunteer: a provably singular A with some b ≠ 0 has no solution to hand out
  // (a b = 0 unit is fine: its volunteer answers x = 0 at once and says why).
  const singular = input.rhs.some((b) => b.some((v) => v !== 0)) ? singularityOf(a) : null;
  if (singular !== null) throw new JobError("singular_matrix", singular);
  const rhs = await Promise.all(rhsBytes.map((bytes) => blobRefOf(bytes)));
  const id = newJobId(random);
  const plan = planJob(
    {
      id,
      kind: input.kind,
      tolerance: input.tol,
      createdAtMs: nowMs,
      spec: {
        matrix,
        rhs,
        method: input.method,
        maxIter: input.maxIter,
        ...(input.preconditioner !== undefined ? { preconditioner: input.preconditioner } : {}),
        ...(input.rhsPerUnit !== undefined ? { rhsPerUnit: input.rhsPerUnit } : {}),
        ...(input.backend !== undefined ? { backend: input.backend } : {}),
        ...(input.blocks !== undefined ? { blocks: input.blocks } : {}),
      },
    },
    partition,
  );
  return { id, nowMs, plan, matrix, matrixBytes, rhs, rhsBytes };
}
