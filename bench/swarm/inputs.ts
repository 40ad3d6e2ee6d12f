import { readFileSync } from "node:fs";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { matrixFrom, type MatrixSource } from "../../src/core/sparse/problem.ts";
import { writeMatrixMarketVector } from "../../src/core/sparse/matrix-market-write.ts";

export { seededRandom } from "../../src/node/seeded-random.ts";

/** Drawn the way the tab draws a job's random right-hand sides. */
export { randomRhs } from "../../src/core/sparse/problem.ts";

/** Right-hand sides are sent as Matrix Market text (full precision), so Node knows b exactly. */
export function vectorText(b: Float64Array): string {
  return writeMatrixMarketVector(b);
}

/** A matrix the bench submits: a generator name (the tab generates the same one) or a SuiteSparse file. */
export type BenchMatrixSource = { kind: "generated"; name: string } | { kind: "file"; path: string };

export interface LoadedMatrix {
  readonly a: CsrMatrix;
  /** What the submission carries: the generator name, or the file's Matrix Market text. */
  readonly submission: MatrixSource;
  readonly label: string;
}

export function loadMatrix(source: BenchMatrixSource): LoadedMatrix {
  const submission: MatrixSource =
    source.kind === "generated" ? source : { kind: "matrix-market", text: readFileSync(source.path, "utf8") };
  const label = source.kind === "generated" ? source.name : (source.path.split("/").pop() ?? source.path);
  return { a: matrixFrom(submission), submission, label };
}
