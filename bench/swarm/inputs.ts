import { readFileSync } from "node:fs";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { generateByName } from "../../src/core/sparse/generators.ts";
import { parseMatrixMarket } from "../../src/core/sparse/matrix-market.ts";
import { writeMatrixMarketVector } from "../../src/core/sparse/matrix-market-write.ts";

export { seededRandom } from "../../src/node/seeded-random.ts";

export function randomVector(n: number, random: () => number): Float64Array {
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = random() * 2 - 1;
  return b;
}

/** Right-hand sides are sent as Matrix Market text (full precision), so Node knows b exactly. */
export function vectorText(b: Float64Array): string {
  return writeMatrixMarketVector(b);
}

/** A matrix the bench submits: a generator name (the tab generates the same one) or a SuiteSparse file. */
export type MatrixSource = { kind: "generated"; name: string } | { kind: "file"; path: string };

export interface LoadedMatrix {
  readonly a: CsrMatrix;
  /** What the submission carries: the generator name, or the file's Matrix Market text. */
  readonly submission: { kind: "generated"; name: string } | { kind: "matrix-market"; text: string };
  readonly label: string;
}

export function loadMatrix(source: MatrixSource): LoadedMatrix {
  if (source.kind === "generated") {
    const a = generateByName(source.name);
    if (a === null) throw new Error(`unknown generator "${source.name}"`);
    return { a, submission: { kind: "generated", name: source.name }, label: source.name };
  }
  const text = readFileSync(source.path, "utf8");
  return {
    a: parseMatrixMarket(text),
    submission: { kind: "matrix-market", text },
    label: source.path.split("/").pop() ?? source.path,
  };
}
