import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExpertError, type ModelSource } from "../../../src/core/experts/models/index.ts";
import { SessionPool, toFloat32 } from "../../../src/core/experts/models/session-pool.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import {
  entryFor,
  int8Expert,
  int8Gate,
  manifestSourceAt,
  MemoryModelCache,
  pixels,
  qdqExpert,
  sha256,
  startModelServer,
  type ModelServer,
} from "./model-fixtures.ts";
import { NodeTestRuntime } from "./model-node-runtime.ts";

/**
 * SessionPool = the expert worker's logic, here over onnxruntime-node and a local HTTP server (the worker
 * runs the same code over onnxruntime-web and the Cache API: e2e/experts-worker.spec.ts).
 */
async function rejection(promise: Promise<unknown>): Promise<ExpertError> {
  const error = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (!(error instanceof ExpertError)) throw error;
  return error;
}

describe("SessionPool", () => {
  let server: ModelServer;
  const expertBytes = int8Expert(3);
  const gateBytes = int8Gate(4);
  const qdqBytes = qdqExpert(5);
  const expert = entryFor("expert-0-int8.onnx", expertBytes, "int8");
  const gate = entryFor("gate-int8.onnx", gateBytes, "int8", {
    name: "gate",
    role: "gate",
    outputs: [
      { name: "weights", type: "float32", shape: ["N", 4] },
      { name: "experts", type: "int64", shape: ["N", 2] },
    ],
  });
  const qdq = entryFor("expert-0-qdq.onnx", qdqBytes, "qdq");
  delete (gate as { expert?: number }).expert;

  beforeAll(async () => {
    server = await startModelServer();
    for (const [entry, bytes] of [
      [expert, expertBytes],
      [gate, gateBytes],
      [qdq, qdqBytes],
    ] as const) {
      server.files.set(`/models/${entry.file}`, bytes);
    }
  });
  afterAll(async () => {
    await server.close();
  });

  function makePool(runtime = new NodeTestRuntime(), cache = new MemoryModelCache(), preference?: "wasm") {
    const notes: string[] = [];
    const pool = new SessionPool(
      runtime,
      { cache, fetch: (url, init) => fetch(url, init), onNote: (n) => notes.push(n) },
      { ...(preference ? { preference } : {}), onNote: (n) => notes.push(n) },
    );
    return { pool, runtime, cache, notes };
  }

  it("loads once per digest, reports the io, and matches onnxruntime-node's runner exactly", async () => {
    const { pool, runtime } = makePool();
    const [a, b] = await Promise.all([
      pool.load(manifestSourceAt(server, gate)),
      pool.load(manifestSourceAt(server, gate)),
    ]);
    expect(runtime.created).toEqual(["wasm"]); // one session for two concurrent loads
    expect(a).toMatchObject({ inputName: "pixels", inputCols: 784, outputCols: 4, provider: "wasm" });
    expect(a.outputNames).toEqual(["weights", "experts"]);
    expect(b.fromCache).toBe(true);

    const input = pixels(16, 9);
    const out = await pool.run(gate.sha256, input, 16);
    const reference = new OrtNodeRunner("/nonexistent");
    await reference.load({ kind: "bytes", sha256: gate.sha256, bytes: gateBytes, label: "gate" });
    const expected = await reference.run(gate.sha256, input, 16);
    expect(out.outputs["weights"]!.cols).toBe(4);
    expect(out.outputs["experts"]!.cols).toBe(2);
    expect(Array.from(out.outputs["weights"]!.data)).toEqual(Array.from(expected.outputs["weights"]!.data));
    expect(Array.from(out.outputs["experts"]!.data)).toEqual(Array.from(expected.outputs["experts"]!.data));
    // int64 expert indices arrive as small whole numbers
    expect(out.outputs["experts"]!.data.every((v) => Number.isInteger(v) && v >= 0 && v < 4)).toBe(true);
  });

  it("times loads and runs on the injected clock", async () => {
    let now = 1_000;
    const pool = new SessionPool(
      new NodeTestRuntime(),
      { cache: new MemoryModelCache(), fetch: (url, init) => fetch(url, init) },
      { nowMs: () => (now += 7) },
    );
    const loaded = await pool.load(manifestSourceAt(server, expert));
    expect(loaded.loadMs).toBe(7);
    expect((await pool.run(expert.sha256, pixels(2, 1), 2)).ms).toBe(7);
  });

  it("a second pool on the same cache loads without downloading (fromCache)", async () => {
    const cache = new MemoryModelCache();
    server.hits.clear();
    const first = await makePool(new NodeTestRuntime(), cache).pool.load(manifestSourceAt(server, expert));
    const second = await makePool(new NodeTestRuntime(), cache).pool.load(manifestSourceAt(server, expert));
    expect(first.fromCache).toBe(false);
    expect(second.fromCache).toBe(true);
    expect(server.hits.get(`/models/${expert.file}`)).toBe(1);
  });

  it("wrong input shapes or types are bad_input naming expected vs given, and never reach the runtime", async () => {
    const { pool, runtime } = makePool();
    await pool.load(manifestSourceAt(server, expert));
    const before = runtime.runs;
    const short = await rejection(pool.run(expert.sha256, new Float32Array(783), 1));
    expect(short.code).toBe("bad_input");
    expect(short.message).toMatch(/expected 1 × 784 = 784 float32 values .*"pixels".*given 783/);
    const rows = await rejection(pool.run(expert.sha256, new Float32Array(784 * 2), 3));
    expect(rows.message).toMatch(/expected 3 × 784 = 2352 .* given 1568/);
    const zero = await rejection(pool.run(expert.sha256, new Float32Array(0), 0));
    expect(zero.message).toMatch(/positive integer .* given 0/);
    const f64 = await rejection(pool.run(expert.sha256, new Float64Array(784) as unknown as Float32Array, 1));
    expect(f64.message).toMatch(/expected a Float32Array .* given Float64Array/);
    expect(runtime.runs).toBe(before);
  });

  it("runs on one session are serialized; results keep their own inputs", async () => {
    const runtime = new NodeTestRuntime();
    runtime.faultRunDelayMs = 20;
    const { pool } = makePool(runtime);
    await pool.load(manifestSourceAt(server, expert));
    const inputs = [1, 2, 3, 4, 5].map((seed) => pixels(4, seed));
    const outs = await Promise.all(inputs.map((input) => pool.run(expert.sha256, input, 4)));
    expect(runtime.maxInFlight).toBe(1);
    const reference = new OrtNodeRunner("/nonexistent");
    await reference.load({ kind: "bytes", sha256: expert.sha256, bytes: expertBytes, label: "x" });
    for (const [i, input] of inputs.entries()) {
      const expected = await reference.run(expert.sha256, input, 4);
      expect(Array.from(outs[i]!.outputs["logits"]!.data)).toEqual(
        Array.from(expected.outputs["logits"]!.data),
      );
    }
  });

  it("digest mismatch and non-ONNX bytes fail clearly and leave nothing cached", async () => {
    const { pool, cache } = makePool();
    const flipped = expertBytes.slice();
    flipped[200] = flipped[200]! ^ 0x55;
    server.files.set("/models/flipped.onnx", flipped);
    const mismatch = await rejection(
      pool.load({ kind: "manifest", entry: expert, url: `${server.baseUrl}/models/flipped.onnx` }),
    );
    expect(mismatch.code).toBe("digest_mismatch");
    const garbage = new Uint8Array(4096).fill(7);
    const source: ModelSource = { kind: "bytes", sha256: sha256(garbage), bytes: garbage, label: "garbage" };
    const corrupt = await rejection(pool.load(source));
    expect(corrupt.code).toBe("corrupt_model");
    expect(await cache.list()).toEqual([]);
    expect(pool.loaded()).toEqual([]);
    // the pool still works afterwards, and a failed digest can be retried
    expect((await pool.load(manifestSourceAt(server, expert))).sha256).toBe(expert.sha256);
  });

  it("a model that contradicts its manifest entry is corrupt_model and not cached", async () => {
    const { pool, cache } = makePool();
    const wrong = { ...expert, inputs: [{ name: "image", type: "float32" as const, shape: ["N", 784] }] };
    const error = await rejection(pool.load(manifestSourceAt(server, wrong)));
    expect(error.code).toBe("corrupt_model");
    expect(error.message).toMatch(/does not match its manifest entry: input "pixels" ≠ "image"/);
    expect(await cache.list()).toEqual([]);
  });

  it("a runtime that cannot start is unavailable, before any download", async () => {
    const runtime = new NodeTestRuntime();
    runtime.faultPrepareFails.add("wasm");
    server.hits.clear();
    const { pool, cache } = makePool(runtime);
    const error = await rejection(pool.load(manifestSourceAt(server, expert)));
    expect(error.code).toBe("unavailable");
    expect(server.hits.size).toBe(0);
    expect(await cache.list()).toEqual([]);
  });

  it("chooses providers by variant and capability and falls back from a failing webgpu", async () => {
    const runtime = new NodeTestRuntime();
    runtime.gpuAdapter = true;
    const { pool, notes } = makePool(runtime);
    expect((await pool.load(manifestSourceAt(server, expert))).provider).toBe("wasm"); // int8
    const onGpu = await pool.load(manifestSourceAt(server, qdq));
    expect(onGpu.provider).toBe("webgpu");
    expect(pool.provider).toBe("webgpu");

    const failing = new NodeTestRuntime();
    failing.gpuAdapter = true;
    failing.faultWebgpuSessionFails = true;
    const second = makePool(failing);
    const fellBack = await second.pool.load(manifestSourceAt(server, qdq));
    expect(fellBack.provider).toBe("wasm");
    expect(fellBack.providerReason).toMatch(/webgpu failed .*fault injected/);
    expect(second.notes.join("\n")).toMatch(/running on wasm/);

    const forced = makePool(runtime, new MemoryModelCache(), "wasm");
    expect((await forced.pool.load(manifestSourceAt(server, qdq))).provider).toBe("wasm");
    expect(notes).toEqual([]);
  });

  it("unload drops the session (runs then say model_missing) but keeps the cached bytes", async () => {
    const { pool, cache } = makePool();
    await pool.load(manifestSourceAt(server, expert));
    const pending = pool.run(expert.sha256, pixels(2, 1), 2);
    await pool.unload(expert.sha256);
    await expect(pending).resolves.toBeDefined(); // queued before the unload: it finishes
    const error = await rejection(pool.run(expert.sha256, pixels(2, 1), 2));
    expect(error.code).toBe("model_missing");
    expect(await cache.list()).toEqual([expert.sha256]);
  });

  it("toFloat32 gives arrays that own their buffer", () => {
    const big = new Float32Array(16);
    const view = toFloat32(big.subarray(4, 8))!;
    expect(view.buffer.byteLength).toBe(16);
    expect(toFloat32(big)).toBe(big);
    expect(Array.from(toFloat32(new BigInt64Array([3n, -1n]))!)).toEqual([3, -1]);
    expect(toFloat32(["a"])).toBeUndefined();
  });
});
