import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isJobError } from "../../../src/core/protocol/job-errors.ts";
import { partitionRows } from "../../../src/core/distributed/partition.ts";
import { estimateSolveMemoryBytes, planJob, solveCostFlops } from "../../../src/core/jobs/split.ts";
import type { CsrMatrix } from "../../../src/core/sparse/csr.ts";
import { poisson2d } from "../../../src/core/sparse/generators.ts";
import { loadMatrix, spec } from "./helpers.ts";

function codeOf(f: () => unknown): string {
  try {
    f();
    return "no error";
  } catch (e) {
    return isJobError(e) ? e.code : String(e);
  }
}

describe("planJob", () => {
  it("makes one unit for a solve and one per right-hand side (or group) for multi-rhs", () => {
    const one = planJob({ id: "s", kind: "solve", spec: spec(), tolerance: 1e-8, createdAtMs: 5 });
    expect(one.job).toMatchObject({ id: "s", status: "running", createdAtMs: 5, outcome: null });
    expect(one.units).toEqual([
      expect.objectContaining({ index: 0, task: { kind: "rhs-group", rhsStart: 0, rhsCount: 1 } }),
    ]);

    const many = planJob({ id: "m", kind: "multi-rhs", spec: spec({}, 7), tolerance: 1e-8, createdAtMs: 0 });
    expect(many.units.map((u) => u.task)).toEqual(
      Array.from({ length: 7 }, (_, i) => ({ kind: "rhs-group", rhsStart: i, rhsCount: 1 })),
    );
    const grouped = planJob({
      id: "g",
      kind: "multi-rhs",
      spec: spec({ rhsPerUnit: 3 }, 7),
      tolerance: 1e-8,
      createdAtMs: 0,
    });
    expect(grouped.units.map((u) => u.task)).toEqual([
      { kind: "rhs-group", rhsStart: 0, rhsCount: 3 },
      { kind: "rhs-group", rhsStart: 3, rhsCount: 3 },
      { kind: "rhs-group", rhsStart: 6, rhsCount: 1 },
    ]);
    expect(grouped.units[0]!.costFlops).toBe(3 * grouped.units[2]!.costFlops);
    expect(grouped.units[0]!.requirements.memoryBytes).toBeGreaterThan(
      grouped.units[2]!.requirements.memoryBytes,
    );
  });

  it("estimates cost and memory from the matrix size", () => {
    expect(solveCostFlops(100, 500, 1000, 1)).toBe(2 * (500 + 500) * 1000);
    const s = spec({ preconditioner: "ic0" });
    // CSR (12·nnz + 4(n+1)) twice (matrix + IC(0)) + 8n·(6 CG vectors + b + x)
    expect(estimateSolveMemoryBytes(100, 500, s, 1)).toBe(2 * (12 * 500 + 4 * 101) + 8 * 100 * 8);
  });

  it("plans a distributed solve from its row partition", () => {
    const a = poisson2d(20);
    const partition = partitionRows(a, 4);
    const s = spec({ blocks: 4 }, 1, a.rows, a.rowPtr[a.rows]!);
    const plan = planJob(
      { id: "d", kind: "distributed-solve", spec: s, tolerance: 1e-8, createdAtMs: 0 },
      partition,
    );
    expect(plan.units.map((u) => u.task)).toEqual(
      partition.blocks.map((b) => ({
        kind: "row-block",
        block: b.index,
        blocks: 4,
        rowStart: b.rowStart,
        rowEnd: b.rowEnd,
      })),
    );
    expect(
      codeOf(() => planJob({ id: "d", kind: "distributed-solve", spec: s, tolerance: 1e-8, createdAtMs: 0 })),
    ).toBe("invalid_spec");
  });

  it("rejects invalid specs with invalid_spec and a reason", () => {
    const base = { kind: "solve" as const, tolerance: 1e-8, createdAtMs: 0 };
    const bad = [
      () => planJob({ ...base, id: "has space", spec: spec() }),
      () => planJob({ ...base, id: "t", spec: spec(), tolerance: 0 }),
      () => planJob({ ...base, id: "t", spec: spec({ maxIter: 0 }) }),
      () => planJob({ ...base, id: "t", spec: spec({}, 2) }),
      () => planJob({ ...base, id: "t", spec: spec({}, 0), kind: "multi-rhs" }),
      () => planJob({ ...base, id: "t", spec: spec({ rhsPerUnit: 0 }, 3), kind: "multi-rhs" }),
      () => planJob({ ...base, id: "t", spec: { ...spec(), matrix: { ...spec().matrix, cols: 3 } } }),
      () => planJob({ ...base, id: "t", spec: spec({ blocks: 1 }), kind: "distributed-solve" }),
    ];
    expect(bad.map(codeOf)).toEqual(bad.map(() => "invalid_spec"));
    expect(() => planJob({ ...base, id: "t", spec: spec({}, 2) })).toThrow(/exactly one right-hand side/);
  });
});

function checkPartition(a: CsrMatrix, k: number): void {
  const p = partitionRows(a, k);
  expect(p.blocks).toHaveLength(k);
  expect(p.blocks[0]!.rowStart).toBe(0);
  expect(p.blocks[k - 1]!.rowEnd).toBe(a.rows);
  let maxRowWeight = 0;
  for (let i = 0; i < a.rows; i++) maxRowWeight = Math.max(maxRowWeight, a.rowPtr[i + 1]! - a.rowPtr[i]! + 1);
  const total = a.rowPtr[a.rows]! + a.rows;
  for (const [j, b] of p.blocks.entries()) {
    expect(b.rowEnd).toBeGreaterThan(b.rowStart);
    if (j > 0) expect(b.rowStart).toBe(p.blocks[j - 1]!.rowEnd);
    // Halo = exactly the off-block columns the block's rows reference, each with its true owner.
    const expected = new Set<number>();
    for (let q = a.rowPtr[b.rowStart]!; q < a.rowPtr[b.rowEnd]!; q++) {
      const c = a.colIdx[q]!;
      if (c < b.rowStart || c >= b.rowEnd) expected.add(c);
    }
    expect([...b.haloCols]).toEqual([...expected].sort((x, y) => x - y));
    b.haloCols.forEach((c, i) => {
      const owner = p.blocks[b.haloOwners[i]!]!;
      expect(c >= owner.rowStart && c < owner.rowEnd).toBe(true);
    });
    // Exports mirror imports: what block j sends to block m is what m imports from j.
    for (const e of b.exports) {
      const m = p.blocks[e.block]!;
      const fromJ = [...m.haloCols].filter((_, i) => m.haloOwners[i] === j);
      expect([...e.rows]).toEqual(fromJ);
    }
    expect(b.nnz).toBe(a.rowPtr[b.rowEnd]! - a.rowPtr[b.rowStart]!);
  }
  // Balanced by nnz: every block within one row's weight of the ideal share.
  const weights = p.blocks.map((b) => b.nnz + (b.rowEnd - b.rowStart));
  for (const w of weights) expect(Math.abs(w - total / k)).toBeLessThanOrEqual(maxRowWeight + 1e-9);
  expect(p.imbalance).toBeCloseTo(Math.max(...weights) / (total / k), 12);
}

describe("partitionRows", () => {
  it("splits 2D Poisson into contiguous nnz-balanced blocks with exact halos", () => {
    const a = poisson2d(30);
    for (const k of [1, 2, 3, 4, 7]) checkPartition(a, k);
    const p = partitionRows(a, 2);
    // A 5-point stencil cut between grid rows: the halo is one grid row (30 values) on each side.
    expect(p.blocks.map((b) => b.haloCols.length)).toEqual([30, 30]);
  });

  it("splits bcsstk13 (uneven rows) within one row's weight of the ideal", () => {
    const a = loadMatrix("bcsstk13");
    for (const k of [2, 4, 8]) checkPartition(a, k);
  });

  it("holds its invariants on random sparse patterns (fast-check)", () => {
    const arb = fc.integer({ min: 1, max: 60 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        k: fc.integer({ min: 1, max: n }),
        entries: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 4 * n }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ n, k, entries }) => {
        const rows: Set<number>[] = Array.from({ length: n }, (_, i) => new Set([i]));
        for (const [i, j] of entries) rows[i]!.add(j);
        const rowPtr = new Int32Array(n + 1);
        const cols: number[] = [];
        rows.forEach((r, i) => {
          cols.push(...[...r].sort((x, y) => x - y));
          rowPtr[i + 1] = cols.length;
        });
        const a: CsrMatrix = {
          rows: n,
          cols: n,
          rowPtr,
          colIdx: Int32Array.from(cols),
          values: new Float64Array(cols.length).fill(1),
        };
        const p = partitionRows(a, k);
        expect(p.blocks).toHaveLength(k);
        expect(p.blocks.every((b) => b.rowEnd > b.rowStart)).toBe(true);
        expect(p.blocks.reduce((s, b) => s + b.nnz, 0)).toBe(cols.length);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses impossible partitions with invalid_partition", () => {
    const a = poisson2d(3);
    expect(codeOf(() => partitionRows(a, 0))).toBe("invalid_partition");
    expect(codeOf(() => partitionRows(a, 10))).toBe("invalid_partition");
    expect(codeOf(() => partitionRows(a, 1.5))).toBe("invalid_partition");
    expect(codeOf(() => partitionRows({ ...a, cols: 10 }, 2))).toBe("invalid_partition");
  });
});
