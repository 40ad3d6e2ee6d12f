import { InputError } from "../../sparse/errors.ts";
import type { EntryUpdate, RhsUpdate, SystemUpdates } from "./patch.ts";

/**
 * Update entries typed by a person (the Dashboard's "Update entries" box), 1-based like Matrix Market:
 *   i j value   → a_ij (replaced, or added to with mode "add")
 *   i value     → b_i
 * One entry per line; blank lines and lines starting with % or # are ignored; numbers may be separated by
 * spaces, tabs or commas. Errors are InputErrors with the 1-based line: parse_error (not 2 or 3 numbers,
 * or an index that is not a whole number), index_out_of_range (outside 1..n), non_finite (NaN, Inf).
 * The result is 0-based, ready for applyUpdates.
 */
export function parseUpdateText(text: string, n: number | null, mode: "set" | "add" = "set"): SystemUpdates {
  const matrix: EntryUpdate[] = [];
  const rhs: RhsUpdate[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, k) => {
    const line = k + 1;
    const content = raw.trim();
    if (content === "" || content.startsWith("%") || content.startsWith("#")) return;
    const fields = content.split(/[\s,]+/);
    if (fields.length !== 2 && fields.length !== 3) {
      throw new InputError(
        "parse_error",
        `line ${line}: expected "i j value" (an entry of A) or "i value" (an entry of b), got "${content}"`,
        { line, found: content },
      );
    }
    const index = (field: string, what: string): number => {
      if (!/^[+-]?\d+$/.test(field)) {
        throw new InputError("parse_error", `line ${line}: ${what} "${field}" is not a whole number`, {
          line,
          found: field,
        });
      }
      const v = Number(field);
      const max = n ?? Number.MAX_SAFE_INTEGER;
      if (v < 1 || v > max) {
        const range = n === null ? "at least 1 (indices are 1-based)" : `in 1..${n} (indices are 1-based)`;
        throw new InputError("index_out_of_range", `line ${line}: ${what} ${v} is not ${range}`, {
          line,
          index: v,
          min: 1,
          max,
        });
      }
      return v - 1;
    };
    const valueField = fields[fields.length - 1]!;
    const spelledNonFinite = /^[+-]?(nan|inf|infinity)$/i.test(valueField);
    const value = spelledNonFinite ? NaN : Number(valueField);
    if (Number.isNaN(value) && !spelledNonFinite) {
      throw new InputError("parse_error", `line ${line}: value "${valueField}" is not a number`, {
        line,
        found: valueField,
      });
    }
    if (!Number.isFinite(value)) {
      throw new InputError("non_finite", `line ${line}: value ${valueField} is not finite`, {
        line,
        value: valueField,
      });
    }
    if (fields.length === 3) {
      matrix.push({
        row: index(fields[0]!, "row index"),
        col: index(fields[1]!, "column index"),
        value,
        mode,
      });
    } else {
      rhs.push({ index: index(fields[0]!, "index of b"), value, mode });
    }
  });
  if (matrix.length + rhs.length === 0) {
    throw new InputError("parse_error", 'no update lines: write "i j value" for A or "i value" for b', {
      found: text.slice(0, 40),
    });
  }
  return { matrix, rhs };
}
