import { readFileSync } from "node:fs";
import type { CsrMatrix } from "../core/sparse/csr.ts";
import { InputError } from "../core/sparse/errors.ts";
import { parseMatrixMarket, parseMatrixMarketVector } from "../core/sparse/matrix-market.ts";
import type { EntryUpdate, RhsUpdate, SystemUpdates } from "../core/solver/updates/index.ts";
import { CliError, describeFsError } from "./cli-error.ts";
import type { UpdateMode } from "./solve-options.ts";

function readUpdateFile(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const { code, text } = describeFsError(e);
    throw new CliError(
      code === "ENOENT" ? "file_not_found" : "file_unreadable",
      `cannot read ${flag} ${path}: ${text}`,
    );
  }
}

/** A pattern file has no values to set: refuse it instead of silently writing 1s. */
function refusePattern(path: string, flag: string, text: string): void {
  const banner = text.slice(0, text.indexOf("\n") >>> 0);
  if (/\bpattern\b/i.test(banner)) {
    throw new InputError("unsupported_format", `${path}: ${flag} needs values; a pattern file has none`, {
      line: 1,
      found: "pattern",
      supported: ["real", "integer"],
    });
  }
}

function located(path: string, e: unknown): unknown {
  return e instanceof InputError ? new InputError(e.code, `${path}: ${e.message}`, e.details) : e;
}

function entriesOf(m: CsrMatrix): { row: number; col: number; value: number }[] {
  const out = [];
  for (let i = 0; i < m.rows; i++)
    for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++)
      out.push({ row: i, col: m.colIdx[k]!, value: m.values[k]! });
  return out;
}

/**
 * --update FILE: a Matrix Market coordinate matrix the size of A whose entries are the changes (general,
 * or symmetric to change a_ij and a_ji together). The reader sums duplicate coordinates (as everywhere);
 * the sums are then set or added. Explicit zeros are kept, so "set" to 0 works. Entries outside A's
 * pattern are inserted.
 */
export function loadMatrixUpdates(path: string, a: CsrMatrix, mode: UpdateMode): EntryUpdate[] {
  const text = readUpdateFile(path, "--update");
  refusePattern(path, "--update", text);
  let m: CsrMatrix;
  try {
    m = parseMatrixMarket(text);
  } catch (e) {
    throw located(path, e);
  }
  if (m.rows !== a.rows || m.cols !== a.cols) {
    throw new InputError(
      "count_mismatch",
      `${path}: the update is ${m.rows}×${m.cols}; A is ${a.rows}×${a.cols} (give A's size in the header)`,
      { what: "update rows", expected: a.rows, actual: m.rows },
    );
  }
  return entriesOf(m).map((e) => ({ ...e, mode }));
}

/**
 * --update-rhs FILE: a coordinate n×1 (or 1×n) file lists the entries of b to change; an array file gives
 * all n of them.
 */
export function loadRhsUpdates(path: string, n: number, mode: UpdateMode): RhsUpdate[] {
  const text = readUpdateFile(path, "--update-rhs");
  refusePattern(path, "--update-rhs", text);
  try {
    if (/^%%MatrixMarket\s+matrix\s+array/i.test(text)) {
      const v = parseMatrixMarketVector(text);
      if (v.length !== n) {
        throw new InputError("vector_length", `the rhs update has ${v.length} entries; A has ${n} rows`, {
          expected: n,
          actual: v.length,
        });
      }
      return Array.from(v, (value, index) => ({ index, value, mode }));
    }
    const m = parseMatrixMarket(text, { allowRectangular: true });
    const column = m.cols === 1;
    if ((column ? m.rows : m.cols) !== n || Math.min(m.rows, m.cols) !== 1) {
      throw new InputError("vector_length", `the rhs update is ${m.rows}×${m.cols}; expected ${n}×1`, {
        expected: n,
        actual: column ? m.rows : m.cols,
      });
    }
    return entriesOf(m).map((e) => ({ index: column ? e.row : e.col, value: e.value, mode }));
  } catch (e) {
    throw located(path, e);
  }
}

/** The updates asked for on the command line, or null for none. */
export function loadUpdates(
  opts: { update?: string; updateRhs?: string; updateMode: UpdateMode },
  a: CsrMatrix,
): SystemUpdates | null {
  if (opts.update === undefined && opts.updateRhs === undefined) return null;
  return {
    matrix: opts.update === undefined ? [] : loadMatrixUpdates(opts.update, a, opts.updateMode),
    rhs: opts.updateRhs === undefined ? [] : loadRhsUpdates(opts.updateRhs, a.rows, opts.updateMode),
  };
}
