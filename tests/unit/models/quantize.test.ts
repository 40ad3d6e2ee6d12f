import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activationScale,
  dequantize,
  MIN_COLUMN_MAX,
  PIXEL_SCALE,
  quantile,
  quantizePerColumn,
} from "../../../scripts/models/quantize.ts";

describe("int8 quantization", () => {
  it("per-column round trip is within half a step of each column's scale", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.float({ min: -8, max: 8, noNaN: true }), { minLength: 72, maxLength: 72 }),
        (rows, cols, values) => {
          const w = Float32Array.from(values.slice(0, rows * cols));
          const q = quantizePerColumn(w, rows, cols);
          const back = dequantize(q);
          for (let j = 0; j < cols; j++) {
            let max = 0;
            for (let k = 0; k < rows; k++) max = Math.max(max, Math.abs(w[k * cols + j]!));
            const step = q.scales[j]!;
            // Tiny columns (a float32 scale would underflow) quantize to zeros.
            if (max >= MIN_COLUMN_MAX) expect(step).toBeCloseTo(max / 127, 6);
            else expect(step).toBe(1);
            for (let k = 0; k < rows; k++) {
              const i = k * cols + j;
              expect(Math.abs(q.q[i]!)).toBeLessThanOrEqual(127);
              expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(step / 2 + 1e-6 * max);
            }
          }
        },
      ),
    );
  });

  it("the largest magnitude of a column maps to ±127 and an all-zero column stays zero", () => {
    const w = Float32Array.from([0.5, 0, -2, 0, 1, 0]); // [3, 2]: column 1 is zero
    const q = quantizePerColumn(w, 3, 2);
    expect([...q.q]).toEqual([32, 0, -127, 0, 64, 0]);
    expect(q.scales[1]).toBe(1);
  });

  it("pixel scale 1/255 represents every pixel/255 exactly", () => {
    for (let p = 0; p <= 255; p++) {
      const x = Math.fround(p / 255);
      expect(Math.round(x / PIXEL_SCALE)).toBe(p);
    }
  });

  it("activation scale maps the quantile to 255 and ignores outliers above it", () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => i / 100); // 0 .. 9.99
    values[999] = 1e6;
    expect(quantile(values, 0.5)).toBeCloseTo(4.99, 5);
    const s = activationScale(values, 0.99);
    expect(s * 255).toBeCloseTo(9.89, 4);
    expect(() => quantile(new Float32Array(0), 0.5)).toThrow(/empty/);
  });
});
