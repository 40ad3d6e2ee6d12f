import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isWebGpuSolverError } from "../../../kernels/webgpu/errors.ts";
import {
  dispatchGrid,
  MAX_PARTIALS,
  planRowBlocks,
  rowsPerInvocationFor,
  WORKGROUP_SIZE,
} from "../../../kernels/webgpu/partition.ts";

function rowPtrFromCounts(counts: readonly number[]): Int32Array {
  const p = new Int32Array(counts.length + 1);
  counts.forEach((c, i) => (p[i + 1] = p[i]! + c));
  return p;
}

describe("planRowBlocks", () => {
  it("keeps a matrix that fits one binding in one block", () => {
    const rowPtr = rowPtrFromCounts([3, 3, 3, 3]);
    const blocks = planRowBlocks(rowPtr, 4, 1 << 20);
    expect(blocks).toEqual([{ rowStart: 0, rows: 4, nnzStart: 0, nnz: 12, wgBase: 0, wgCount: 1 }]);
  });

  it("splits by nonzeros so that column indices and values each fit the binding", () => {
    // 10 rows of 5 nonzeros, 40-byte bindings = 10 nonzeros per block: 2 rows per block, 5 blocks.
    const rowPtr = rowPtrFromCounts(Array(10).fill(5));
    const blocks = planRowBlocks(rowPtr, 10, 40);
    expect(blocks.map((b) => b.rows)).toEqual([2, 2, 2, 2, 2]);
    expect(blocks.map((b) => b.wgBase)).toEqual([0, 1, 2, 3, 4]);
  });

  it("splits by rows when the row pointers alone would overflow (empty rows)", () => {
    const rowPtr = rowPtrFromCounts(Array(100).fill(0));
    const blocks = planRowBlocks(rowPtr, 100, 44); // 11 u32: 10 rows + 1 per block
    expect(blocks.length).toBe(10);
    expect(blocks.every((b) => b.rows === 10 && b.nnz === 0)).toBe(true);
  });

  it("refuses a single row longer than a binding with matrix_too_large", () => {
    const rowPtr = rowPtrFromCounts([1, 50, 1]);
    try {
      planRowBlocks(rowPtr, 3, 64);
      expect.unreachable();
    } catch (e) {
      expect(isWebGpuSolverError(e) && e.code).toBe("matrix_too_large");
      expect(String(e)).toContain("row 1 has 50 nonzeros");
    }
  });

  it("always covers every row exactly once with blocks that fit (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(20), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 84, max: 4000 }),
        fc.integer({ min: 1, max: 8 }),
        (counts, limitBytes, rpi) => {
          const rowPtr = rowPtrFromCounts(counts);
          const rowsPerWg = WORKGROUP_SIZE * rpi;
          const blocks = planRowBlocks(rowPtr, counts.length, limitBytes, rowsPerWg);
          let row = 0;
          let wg = 0;
          for (const b of blocks) {
            expect(b.rowStart).toBe(row);
            expect(b.rows).toBeGreaterThan(0);
            expect(b.nnzStart).toBe(rowPtr[b.rowStart]);
            expect(b.nnz).toBe(rowPtr[b.rowStart + b.rows]! - rowPtr[b.rowStart]!);
            expect(b.nnz * 4).toBeLessThanOrEqual(limitBytes);
            expect((b.rows + 1) * 4).toBeLessThanOrEqual(limitBytes);
            expect(b.wgBase).toBe(wg);
            expect(b.wgCount).toBe(Math.ceil(b.rows / rowsPerWg));
            row += b.rows;
            wg += b.wgCount;
          }
          expect(row).toBe(counts.length);
          // Greedy is maximal: no block could have taken the next row as well.
          for (let i = 0; i + 1 < blocks.length; i++) {
            const b = blocks[i]!;
            const next = rowPtr[b.rowStart + b.rows + 1]! - b.nnzStart;
            expect(next * 4 > limitBytes || (b.rows + 2) * 4 > limitBytes).toBe(true);
          }
        },
      ),
    );
  });
});

describe("dispatchGrid", () => {
  it("is 1D while the workgroups fit one dimension", () => {
    expect(dispatchGrid(1, 65535)).toEqual([1, 1]);
    expect(dispatchGrid(65535, 65535)).toEqual([65535, 1]);
  });

  it("goes 2D past the per-dimension limit and covers every workgroup", () => {
    expect(dispatchGrid(65536, 65535)).toEqual([65535, 2]);
    const [x, y] = dispatchGrid(32, 8);
    expect([x, y]).toEqual([8, 4]);
    expect(x * y).toBeGreaterThanOrEqual(32);
  });

  it("refuses a grid beyond max × max", () => {
    expect(() => dispatchGrid(17, 4)).toThrow(/matrix_too_large/);
  });
});

describe("rowsPerInvocationFor", () => {
  it("honours a fixed choice", () => {
    expect(rowsPerInvocationFor(3, true, 10)).toBe(3);
  });

  it("uses 8 on a software adapter and 1 on hardware for ordinary sizes", () => {
    expect(rowsPerInvocationFor(null, true, 1000)).toBe(8);
    expect(rowsPerInvocationFor(null, false, 1_000_000)).toBe(1);
  });

  it("keeps the partials per dot bounded on hardware for huge n", () => {
    for (const n of [2e6, 5e6, 3e7]) {
      const rpi = rowsPerInvocationFor(null, false, n);
      expect(rpi).toBeLessThanOrEqual(8);
      if (rpi < 8) expect(Math.ceil(n / (WORKGROUP_SIZE * rpi))).toBeLessThanOrEqual(MAX_PARTIALS);
    }
  });
});
