import { describe, expect, it } from "vitest";
import { parseUpdateText } from "../../../src/core/solver/updates/text.ts";

function errorOf(f: () => unknown): { code?: string; message?: string; details?: unknown } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message?: string; details?: unknown };
  }
  throw new Error("expected an error");
}

describe("parseUpdateText (the Dashboard's update box)", () => {
  it("reads 1-based 'i j value' (A) and 'i value' (b) into 0-based updates, skipping comments and blanks", () => {
    const text = "% change the corner\n1 1 4.5\n\n# and b\n 7\t-2.5e-3 \n3,2,1\n";
    expect(parseUpdateText(text, 10, "add")).toEqual({
      matrix: [
        { row: 0, col: 0, value: 4.5, mode: "add" },
        { row: 2, col: 1, value: 1, mode: "add" },
      ],
      rhs: [{ index: 6, value: -2.5e-3, mode: "add" }],
    });
  });

  it("says which line is wrong and why, with a specific code", () => {
    const cases: [string, string, RegExp, number][] = [
      ["1 1 1\n1 2 3 4", "parse_error", /line 2: expected "i j value"/, 2],
      ["1.5 2", "parse_error", /index of b "1.5" is not a whole number/, 1],
      ["1 x 2", "parse_error", /column index "x"/, 1],
      ["1 1 abc", "parse_error", /value "abc" is not a number/, 1],
      ["0 1 2", "index_out_of_range", /row index 0 is not in 1\.\.5/, 1],
      ["\n\n6 2", "index_out_of_range", /line 3: index of b 6 is not in 1\.\.5/, 3],
      ["1 1 NaN", "non_finite", /value NaN is not finite/, 1],
      ["2 -inf", "non_finite", /not finite/, 1],
      ["1 1 1e999", "non_finite", /not finite/, 1],
    ];
    for (const [text, code, message, line] of cases) {
      const e = errorOf(() => parseUpdateText(text, 5));
      expect(e.code, text).toBe(code);
      expect(e.message, text).toMatch(message);
      expect((e.details as { line?: number }).line, text).toBe(line);
    }
    expect(errorOf(() => parseUpdateText("  \n% only a comment\n", 5)).code).toBe("parse_error");
  });

  it("without a known n only checks indices are at least 1", () => {
    expect(parseUpdateText("100000 3", null).rhs).toEqual([{ index: 99999, value: 3, mode: "set" }]);
    expect(errorOf(() => parseUpdateText("0 3", null)).code).toBe("index_out_of_range");
  });
});
