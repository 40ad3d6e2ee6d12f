import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromCsc } from "../../../src/core/sparse/coo.ts";
import { nnzOf } from "../../../src/core/sparse/csr.ts";
import {
  parseMatrixMarket,
  parseMatrixMarketVector,
  writeMatrixMarketMatrix,
  writeMatrixMarketVector,
} from "../../../src/core/sparse/matrix-market.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { multiply, ones } from "../../../src/core/sparse/ops.ts";
import { entry, expectCanonicalCsr, matricesDir } from "./helpers.ts";

/**
 * n, nnz after symmetric expansion, and the sum of all entries, as SciPy 1.17's mmread(...).tocsr() gives
 * them (an independent reader), for the seven shared SuiteSparse matrices.
 */
const SHARED = [
  { file: "LFAT5.mtx", n: 14, nnz: 46, sum: 12581499.907366201, symmetric: true },
  { file: "494_bus.mtx", n: 494, nnz: 1666, sum: 2198.6557469999825, symmetric: true },
  { file: "bcsstk13.mtx", n: 2003, nnz: 83883, sum: 30220739908119.47, symmetric: true },
  { file: "dwt_878.mtx", n: 878, nnz: 7448, sum: 7448, symmetric: true },
  { file: "cage5.mtx", n: 37, nnz: 233, sum: 37.0, symmetric: false },
  { file: "bfwa62.mtx", n: 62, nnz: 450, sum: 2.8668518800000022, symmetric: false },
  { file: "west0479.mtx", n: 479, nnz: 1910, sum: -1750540.074899768, symmetric: false },
] as const;

/** A deliberately naive reader (split every line) used as the reference for the fast one. */
function naiveEntries(text: string): Map<string, number> {
  const lines = text.split("\n");
  const banner = lines[0]!.toLowerCase();
  const symmetric = banner.includes(" symmetric");
  const pattern = banner.includes(" pattern ");
  const data = lines.slice(1).filter((l) => l.trim() !== "" && !l.startsWith("%"));
  const m = new Map<string, number>();
  const add = (i: number, j: number, v: number): void => {
    m.set(`${i},${j}`, (m.get(`${i},${j}`) ?? 0) + v);
  };
  for (const line of data.slice(1)) {
    const [i, j, v] = line.trim().split(/\s+/);
    const value = pattern ? 1 : Number(v);
    add(Number(i) - 1, Number(j) - 1, value);
    if (symmetric && i !== j) add(Number(j) - 1, Number(i) - 1, value);
  }
  return m;
}

describe("parseMatrixMarket on the shared SuiteSparse matrices", () => {
  for (const spec of SHARED) {
    it(`${spec.file}: n = ${spec.n}, nnz = ${spec.nnz} (symmetric expanded), same entries as a naive reader`, () => {
      const text = readFileSync(join(matricesDir, spec.file), "utf8");
      const a = parseMatrixMarket(text);
      expectCanonicalCsr(a);
      expect(a.rows).toBe(spec.n);
      expect(a.cols).toBe(spec.n);
      expect(nnzOf(a)).toBe(spec.nnz);
      let sum = 0;
      for (const v of a.values) sum += v;
      expect(Math.abs(sum - spec.sum)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(spec.sum)));

      const reference = naiveEntries(text);
      expect(reference.size).toBe(spec.nnz);
      for (const [key, v] of reference) {
        const [i, j] = key.split(",").map(Number) as [number, number];
        expect(entry(a, i, j)).toBe(v);
      }
      if (spec.symmetric) {
        // CSR of A read as CSC is Aᵀ: converting it back to CSR must give A again.
        const t = fromCsc(a.cols, a.rows, a.rowPtr, a.colIdx, a.values);
        expect(Array.from(t.rowPtr)).toEqual(Array.from(a.rowPtr));
        expect(Array.from(t.colIdx)).toEqual(Array.from(a.colIdx));
        expect(Array.from(t.values)).toEqual(Array.from(a.values));
      }
    });
  }
});

describe("parseMatrixMarket semantics", () => {
  it("sums duplicate coordinates and keeps explicit zeros", () => {
    const a = parseMatrixMarket(
      [
        "%%MatrixMarket matrix coordinate real general",
        "2 2 5",
        "1 1 1.5",
        "2 2 0",
        "1 1 2.25",
        "2 1 -1",
        "1 1 -0.75",
        "",
      ].join("\n"),
    );
    expectCanonicalCsr(a);
    expect(nnzOf(a)).toBe(3);
    expect(entry(a, 0, 0)).toBe(3);
    expect(entry(a, 1, 0)).toBe(-1);
    expect(Array.from(a.colIdx)).toEqual([0, 0, 1]);
    expect(Array.from(a.values)).toEqual([3, -1, 0]);
  });

  it("expands a symmetric file and sums a duplicate off-diagonal entry on both sides", () => {
    const a = parseMatrixMarket(
      "%%MatrixMarket matrix coordinate real symmetric\n3 3 4\n1 1 4\n3 1 2\n3 1 0.5\n2 2 5\n",
    );
    expect(nnzOf(a)).toBe(4);
    expect(entry(a, 2, 0)).toBe(2.5);
    expect(entry(a, 0, 2)).toBe(2.5);
  });

  it("accepts a symmetric file that stores the upper triangle", () => {
    const a = parseMatrixMarket("%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1\n1 2 7\n");
    expect(entry(a, 0, 1)).toBe(7);
    expect(entry(a, 1, 0)).toBe(7);
  });

  it("expands skew-symmetric files negated, with a zero diagonal", () => {
    const a = parseMatrixMarket(
      "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 3\n2 1 3\n3 1 -4\n3 2 5\n",
    );
    expectCanonicalCsr(a);
    expect(nnzOf(a)).toBe(6);
    expect(entry(a, 1, 0)).toBe(3);
    expect(entry(a, 0, 1)).toBe(-3);
    expect(entry(a, 2, 0)).toBe(-4);
    expect(entry(a, 0, 2)).toBe(4);
    expect(entry(a, 2, 1)).toBe(5);
    expect(entry(a, 1, 2)).toBe(-5);
    for (let i = 0; i < 3; i++) expect(entry(a, i, i)).toBe(0);
  });

  it("drops explicit zeros on a skew-symmetric diagonal", () => {
    const a = parseMatrixMarket(
      "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 2\n1 1 0\n2 1 1\n",
    );
    expect(nnzOf(a)).toBe(2);
  });

  it("reads pattern files as 0/1 matrices", () => {
    const a = parseMatrixMarket("%%MatrixMarket matrix coordinate pattern general\n2 3 3\n1 3\n2 1\n1 1\n", {
      allowRectangular: true,
    });
    expect(a.rows).toBe(2);
    expect(a.cols).toBe(3);
    expect(Array.from(a.values)).toEqual([1, 1, 1]);
    expect(Array.from(a.colIdx)).toEqual([0, 2, 0]);
  });

  it("handles CRLF, tabs, blank and comment lines, a BOM, upper-case banners and Fortran exponents", () => {
    const text =
      "\ufeff%%MatrixMarket MATRIX Coordinate REAL General\r\n% comment\r\n\r\n2  2\t3\r\n1 1 1.5D+01\r\n" +
      "% inline comment line\r\n2\t2  -2.5e-3 \r\n1 2 +7\r\n\r\n";
    const a = parseMatrixMarket(text);
    expect(entry(a, 0, 0)).toBe(15);
    expect(entry(a, 1, 1)).toBe(-0.0025);
    expect(entry(a, 0, 1)).toBe(7);
  });

  it("reads integer fields", () => {
    const a = parseMatrixMarket("%%MatrixMarket matrix coordinate integer general\n1 1 1\n1 1 -42\n");
    expect(entry(a, 0, 0)).toBe(-42);
  });

  it("round-trips values exactly through write and parse", () => {
    const values = [Math.PI, -1 / 3, 1e-300, 6.02214076e23, 0.1 + 0.2, -5e-324, 123456789012345680000];
    const text = `%%MatrixMarket matrix coordinate real general\n1 ${values.length} ${values.length}\n${values
      .map((v, j) => `1 ${j + 1} ${String(v)}`)
      .join("\n")}\n`;
    const a = parseMatrixMarket(text, { allowRectangular: true });
    expect(Array.from(a.values)).toEqual(values);
    const again = parseMatrixMarket(writeMatrixMarketMatrix(a), { allowRectangular: true });
    expect(Array.from(again.values)).toEqual(values);
  });

  it("parses a 1M-row file (poisson2d-1000, 5M entries) into the same matrix", () => {
    const a = poisson2d(1000);
    const text = writeMatrixMarketMatrix(a);
    const start = performance.now();
    const b = parseMatrixMarket(text);
    const ms = performance.now() - start;
    expect(b.rows).toBe(1_000_000);
    expect(Buffer.from(b.rowPtr.buffer).equals(Buffer.from(a.rowPtr.buffer))).toBe(true);
    expect(Buffer.from(b.colIdx.buffer).equals(Buffer.from(a.colIdx.buffer))).toBe(true);
    expect(Buffer.from(b.values.buffer).equals(Buffer.from(a.values.buffer))).toBe(true);
    // Not a benchmark: a generous bound that only a per-line regex/split regression would break.
    expect(ms).toBeLessThan(15_000);
  });
});

describe("Matrix Market vectors", () => {
  it("writes full precision and reads it back exactly", () => {
    const x = Float64Array.from([Math.E, -0, 1e-310, -123.456, 2 ** 60, 1 / 7]);
    const text = writeMatrixMarketVector(x, { comments: ["solution", "second\nline"] });
    expect(
      text.startsWith("%%MatrixMarket matrix array real general\n% solution\n% second\n% line\n6 1\n"),
    ).toBe(true);
    const y = parseMatrixMarketVector(text);
    expect(Array.from(y)).toEqual(Array.from(x));
    expect(Object.is(y[1], -0)).toBe(true);
  });

  it("reads a coordinate n×1 vector (missing entries zero, duplicates summed) and a 1×n array", () => {
    const y = parseMatrixMarketVector(
      "%%MatrixMarket matrix coordinate real general\n4 1 3\n2 1 1.5\n4 1 2\n2 1 1\n",
    );
    expect(Array.from(y)).toEqual([0, 2.5, 0, 2]);
    const z = parseMatrixMarketVector("%%MatrixMarket matrix array real general\n1 3\n1\n2\n3\n");
    expect(Array.from(z)).toEqual([1, 2, 3]);
  });

  it("multiply gives A·1 as row sums", () => {
    const a = parseMatrixMarket(
      "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 2\n1 2 3\n2 2 -1\n",
    );
    expect(Array.from(multiply(a, ones(2)))).toEqual([5, -1]);
  });
});
