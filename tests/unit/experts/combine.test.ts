import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { argmaxRows, combineExperts, gatherRows, routeRows } from "../../../src/core/experts/router/index.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { buildTinyMoe, bytesSource, randomInputs, seeded } from "./router-fixtures.ts";

/** What the whole graph does: every expert on every row, acc = Σ_e fround(w·y) in expert order. */
function denseReference(
  weights: Float32Array,
  ys: Float32Array[],
  rows: number,
  experts: number,
  classes: number,
) {
  const out = new Float32Array(rows * classes);
  for (let n = 0; n < rows; n++) {
    for (let c = 0; c < classes; c++) {
      let acc = Math.fround(weights[n * experts]! * ys[0]![n * classes + c]!);
      for (let e = 1; e < experts; e++)
        acc = Math.fround(acc + Math.fround(weights[n * experts + e]! * ys[e]![n * classes + c]!));
      out[n * classes + c] = acc;
    }
  }
  return out;
}

/** A gate output: top-k of random scores, softmax over them, scattered; `chosen` best first. */
function fakeGate(rows: number, experts: number, k: number, random: () => number) {
  const weights = new Float32Array(rows * experts);
  const chosen = new Float32Array(rows * k);
  for (let n = 0; n < rows; n++) {
    const scores = Array.from({ length: experts }, () => random() * 4);
    const top = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!).slice(0, k);
    const exps = top.map((i) => Math.exp(scores[i]!));
    const sum = exps.reduce((a, b) => a + b, 0);
    top.forEach((i, j) => {
      weights[n * experts + i] = exps[j]! / sum;
      chosen[n * k + j] = i;
    });
  }
  return { weights, chosen };
}

describe("routing and combining expert outputs", () => {
  it("is bit-identical to the dense sum in expert order, for any gate and outputs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer(),
        (rows, experts, k0, seed) => {
          const k = Math.min(k0, experts);
          const random = seeded(seed);
          const { weights, chosen } = fakeGate(rows, experts, k, random);
          const ys = Array.from({ length: experts }, () =>
            Float32Array.from({ length: rows * 10 }, () => (random() - 0.5) * 20),
          );
          const routing = routeRows({ rows, experts, weights, chosen });
          const routed = routing.rowsOf.map((list, e) => gatherRows(ys[e]!, 10, list));
          const got = combineExperts(routing, weights, routed, 10);
          const want = denseReference(weights, ys, rows, experts, 10);
          expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("routes a row only to experts with a non-zero weight, and counts top-k choices", () => {
    const weights = new Float32Array([
      0.7, 0, 0.3, 0, /* row 1 */ 0, 1, 0, 0, /* row 2: weight underflowed */ 0, 0, 1, 0,
    ]);
    const chosen = new Float32Array([0, 2, 1, 3, 2, 0]);
    const routing = routeRows({ rows: 3, experts: 4, weights, chosen });
    expect(routing.rowsOf.map((l) => [...l])).toEqual([[0], [1], [0, 2], []]);
    expect(routing.chosenCount).toEqual([2, 1, 2, 1]);
    expect(routing.topK).toBe(2);
    const out = combineExperts(
      routing,
      weights,
      [new Float32Array([1, 2]), new Float32Array([3, 4]), new Float32Array([5, 6, 7, 8])],
      2,
    );
    expect([...out]).toEqual([
      Math.fround(Math.fround(0.7) + Math.fround(Math.fround(0.3) * 5)),
      Math.fround(Math.fround(0.7 * 2) + Math.fround(Math.fround(0.3) * 6)),
      3,
      4,
      7,
      8,
    ]);
    expect([...argmaxRows(out, 2)]).toEqual([1, 1, 1]);
  });

  it("refuses an inconsistent gate and missing expert outputs with clear errors", () => {
    const chosen = new Float32Array([0, 1]);
    expect(() =>
      routeRows({ rows: 1, experts: 3, weights: new Float32Array([0.5, 0, 0.5]), chosen }),
    ).toThrow(/expert 2 has weight .* not among the chosen/);
    expect(() => routeRows({ rows: 1, experts: 3, weights: new Float32Array([0.5, 0.5]), chosen })).toThrow(
      /expected 1 × 3/,
    );
    expect(() =>
      routeRows({
        rows: 1,
        experts: 3,
        weights: new Float32Array([1, 0, 0]),
        chosen: new Float32Array([0, 7]),
      }),
    ).toThrow(/outside 0..2/);
    expect(() =>
      routeRows({ rows: 1, experts: 3, weights: new Float32Array([Number.NaN, 0, 0]), chosen }),
    ).toThrow(/weight 0 is NaN/);
    const routing = routeRows({ rows: 1, experts: 3, weights: new Float32Array([0.5, 0.5, 0]), chosen });
    expect(() =>
      combineExperts(routing, new Float32Array([0.5, 0.5, 0]), [new Float32Array(10)], 10),
    ).toThrow(/expert 1 output has 0 values/);
  });

  it("reproduces a real ONNX whole-mixture graph bit for bit from per-expert runs in small batches", async () => {
    const tiny = buildTinyMoe({ experts: 5, topK: 2, seed: 3 });
    const runner = new OrtNodeRunner("/nonexistent");
    const gate = await runner.load(bytesSource(tiny.gate, "gate"));
    const moe = await runner.load(bytesSource(tiny.moe, "moe"));
    const experts = await Promise.all(
      tiny.expertModels.map((b, i) => runner.load(bytesSource(b, `expert-${i}`))),
    );
    const rows = 300;
    const x = randomInputs(rows, tiny.inputCols, 11);
    const g = await runner.run(gate.sha256, x, rows);
    const weights = g.outputs["weights"]!.data;
    const routing = routeRows({ rows, experts: tiny.experts, weights, chosen: g.outputs["experts"]!.data });
    const outs: Float32Array[] = [];
    for (let e = 0; e < tiny.experts; e++) {
      const list = routing.rowsOf[e]!;
      const y = new Float32Array(list.length * 10);
      for (let at = 0; at < list.length; at += 13) {
        const part = list.subarray(at, at + 13);
        y.set(
          (await runner.run(experts[e]!.sha256, gatherRows(x, tiny.inputCols, part), part.length)).outputs[
            "logits"
          ]!.data,
          at * 10,
        );
      }
      outs.push(y);
    }
    const got = combineExperts(routing, weights, outs, 10);
    const want = (await runner.run(moe.sha256, x, rows)).outputs["logits"]!.data;
    expect(new Uint32Array(got.buffer)).toEqual(
      new Uint32Array(want.buffer.slice(want.byteOffset, want.byteOffset + want.byteLength)),
    );
  });
});
