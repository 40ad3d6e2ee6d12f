import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkGraphBudget } from "../../../src/core/experts/models/graph/index.ts";
import { ExpertError } from "../../../src/core/experts/models/index.ts";
import { constantBombModel, expandBombModel, slowChainModel } from "./hostile-models.ts";
import { twoOutputModel } from "./router-generic-fixtures.ts";
import { MODELS_DIR } from "./router-fixtures.ts";

// The graph budget a host applies before onnxruntime sees a requester's model (graph-budget.ts): the
// issue's 370-byte bomb and its 2^30 variant refused at once with model_over_budget; real models pass.

function refusal(bytes: Uint8Array): { error: ExpertError; ms: number } {
  const started = performance.now();
  try {
    checkGraphBudget(bytes);
  } catch (error) {
    if (error instanceof ExpertError) return { error, ms: performance.now() - started };
    throw error;
  }
  throw new Error("the model was not refused");
}

describe("graph budget", () => {
  it.each([28, 30])("refuses ConstantOfShape 2^%i → ReduceSum before loading, quickly", (log2) => {
    const bytes = constantBombModel(log2);
    expect(bytes.byteLength).toBeLessThan(400);
    const { error, ms } = refusal(bytes);
    console.log(
      `2^${log2} bomb (${bytes.byteLength} bytes): refused in ${ms.toFixed(2)} ms: ${error.message}`,
    );
    expect(error.code).toBe("model_over_budget");
    expect(error.message).toMatch(/tensor big would take (1\.0|4\.0) GiB/);
    expect(ms).toBeLessThan(50);
  });

  it("bounds an Expand by the rows a request may carry: refused when even one row is too big", () => {
    const { error } = refusal(expandBombModel(27));
    expect(error.code).toBe("model_over_budget");
    // 2^20 values per row: only the number of rows per request is capped (4 MiB per row, 64 rows fit).
    expect(checkGraphBudget(expandBombModel(20)).maxRows).toBe(64);
  });

  it("refuses what it cannot bound: control flow, unknown operators, garbage", () => {
    const loop = constantBombModel(4).slice();
    // "ReduceSum" → "ReduceFum": an operator the budget does not know (same length, same protobuf framing).
    const at = Buffer.from(loop).indexOf("ReduceSum");
    loop[at + 6] = "F".charCodeAt(0);
    expect(refusal(loop).error.message).toMatch(/operator ReduceFum is not known/);
    expect(refusal(Uint8Array.of(0x0a, 0xff, 0x01)).error.code).toBe("corrupt_model");
  });

  it("accepts small real models: the test graphs and every model of the site's manifest", () => {
    expect(checkGraphBudget(twoOutputModel().bytes).maxRows).toBe(4096);
    const slow = checkGraphBudget(slowChainModel(400, 256));
    expect(slow.nodes).toBe(401);
    let checked = 0;
    for (const file of readdirSync(MODELS_DIR).filter((f) => f.endsWith(".onnx"))) {
      const estimate = checkGraphBudget(new Uint8Array(readFileSync(`${MODELS_DIR}/${file}`)));
      expect(estimate.maxRows, file).toBeGreaterThan(0);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
