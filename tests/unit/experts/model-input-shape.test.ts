import { describe, expect, it } from "vitest";
import {
  checkRunInput,
  describeModelIo,
  feedDims,
  type ValueMetaLike,
} from "../../../src/core/experts/models/input-shape.ts";
import { chooseProvider } from "../../../src/core/experts/models/provider-choice.ts";
import { ExpertError } from "../../../src/core/experts/models/index.ts";
import { entryFor, int8Expert } from "./model-fixtures.ts";

const tensor = (name: string, type: string, shape: (number | string)[]): ValueMetaLike => ({
  name,
  isTensor: true,
  type,
  shape,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ExpertError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return "no error";
}

describe("describeModelIo", () => {
  it("reads a [N, 784] → [N, 10] model", () => {
    const io = describeModelIo(
      [tensor("pixels", "float32", ["N", 784])],
      [tensor("logits", "float32", ["N", 10])],
      "m",
    );
    expect(io).toEqual({
      inputName: "pixels",
      fixedRows: null,
      rowDims: [784],
      inputCols: 784,
      outputNames: ["logits"],
      outputCols: 10,
    });
  });

  it("handles image-shaped inputs and fixed batches", () => {
    const io = describeModelIo(
      [tensor("x", "float32", [1, 1, 28, 28])],
      [tensor("y", "float32", [1, 10])],
      "m",
    );
    expect(io.fixedRows).toBe(1);
    expect(io.inputCols).toBe(784);
    expect(feedDims(io, 784, 1)).toEqual([1, 1, 28, 28]);
    expect(codeOf(() => checkRunInput(io, new Float32Array(784 * 2), 2))).toMatch(
      /^bad_input: expected exactly 1 rows for input "x" float32 \[1, 1, 28, 28\]; given 2$/,
    );
  });

  it("accepts a symbolic width on rank-2 inputs and feeds what was given", () => {
    const io = describeModelIo(
      [tensor("x", "float32", ["N", "D"])],
      [tensor("y", "float32", ["N", "D"])],
      "m",
    );
    expect(io.inputCols).toBe(0);
    expect(codeOf(() => checkRunInput(io, new Float32Array(12), 3))).toBe("no error");
    expect(feedDims(io, 12, 3)).toEqual([3, 4]);
    expect(codeOf(() => checkRunInput(io, new Float32Array(10), 3))).toMatch(/a multiple of 3 .* given 10/);
  });

  it("refuses models this runner cannot feed, saying why", () => {
    const y = [tensor("y", "float32", ["N", 10])];
    expect(codeOf(() => describeModelIo([tensor("ids", "int64", ["N", 8])], y, "tok.onnx"))).toMatch(
      /^bad_input: tok\.onnx: input "ids" is int64; this runner feeds float32 tensors only/,
    );
    expect(
      codeOf(() =>
        describeModelIo([tensor("a", "float32", ["N", 2]), tensor("b", "float32", ["N", 2])], y, "m"),
      ),
    ).toMatch(/wants 2 inputs \(a, b\)/);
    expect(codeOf(() => describeModelIo([tensor("v", "float32", [784])], y, "m"))).toMatch(/batch dim plus/);
    expect(codeOf(() => describeModelIo([], y, "m"))).toMatch(/^corrupt_model: m: the model has no input/);
  });

  it("compares the model with its manifest entry", () => {
    const entry = entryFor("e.onnx", int8Expert(1), "int8");
    const io = () =>
      describeModelIo(
        [tensor("pixels", "float32", ["N", 784])],
        [tensor("scores", "float32", ["N", 10])],
        "e",
        entry,
      );
    expect(codeOf(io)).toMatch(/^corrupt_model: e does not match its manifest entry: .*lack logits/);
    const wide = () =>
      describeModelIo(
        [tensor("pixels", "float32", ["N", 785])],
        [tensor("logits", "float32", ["N", 10])],
        "e",
        entry,
      );
    expect(codeOf(wide)).toMatch(/input width 785 ≠ 784/);
  });
});

describe("chooseProvider", () => {
  it("int8 on wasm, float variants on webgpu when an adapter exists, forcing wins", () => {
    expect(chooseProvider("int8", "auto", true).provider).toBe("wasm");
    expect(chooseProvider("qdq", "auto", true).provider).toBe("webgpu");
    expect(chooseProvider("fp32", "auto", true).provider).toBe("webgpu");
    expect(chooseProvider("qdq", "auto", false)).toEqual({
      provider: "wasm",
      reason: "qdq on wasm: no WebGPU adapter here",
    });
    expect(chooseProvider(undefined, "auto", true).provider).toBe("wasm");
    expect(chooseProvider("int8", "webgpu", true).provider).toBe("webgpu");
    expect(chooseProvider("int8", "webgpu", false).reason).toMatch(/forced but no WebGPU adapter/);
    expect(chooseProvider("qdq", "wasm", true).provider).toBe("wasm");
  });
});
