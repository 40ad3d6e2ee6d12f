import { readFileSync } from "node:fs";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { generateByName } from "../../src/core/sparse/generators.ts";
import { parseMatrixMarket } from "../../src/core/sparse/matrix-market.ts";
import { writeMatrixMarketVector } from "../../src/core/sparse/matrix-market-write.ts";

/** Seeded PRNG (mulberry32): the same --seed gives the same right-hand sides, jobs, kill times and victims. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
