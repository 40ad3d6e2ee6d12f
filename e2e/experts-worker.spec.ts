/**
 * The expert worker in a real browser (Chromium, served by the production server from dist/): int8 models
 * on onnxruntime-web's wasm provider give the same outputs as onnxruntime-node on the same inputs, a reload
 * loads them from the Cache API without touching the network, and a corrupt file, a digest mismatch or a
 * wrong input shape give a clear ExpertError code with nothing cached. If an adapter exists (SwiftShader
 * here, with --enable-unsafe-webgpu), the qdq variant runs on webgpu and is compared with onnxruntime-node
 * within a stated tolerance.
 *
 * Models: public/models (npm run models:build); OPEN_SWARM_MODELS_DIR overrides it (the server must serve
 * the same files under /models/).
 */
import type {} from "../src/state/experts/test-hook.ts";
import { expect, test, type Page } from "@playwright/test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  findModel,
  manifestSchema,
  type ManifestModel,
  type ModelManifest,
} from "../src/core/protocol/manifest.ts";
import type { RunOutput } from "../src/core/experts/models/index.ts";
import { OrtNodeRunner } from "../src/node/ort-node-runner.ts";
import * as ortNode from "onnxruntime-node";
import { FASHION_TEST_IMAGES } from "../src/node/fashion-mnist.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MODELS_DIR = process.env["OPEN_SWARM_MODELS_DIR"] ?? join(ROOT, "public", "models");
const ROWS = 200;
const BATCH_ROWS = 50;
const COLS = 784;
/**
 * int8 on wasm vs onnxruntime-node (native, x86): the integer products are exact and the few float ops after
 * them (scale multiply, bias add, softmax) are the same IEEE float32 operations, so outputs should agree to
 * the last bits. Allowed: 1e-5 absolute (logits are O(10); a few float32 ulps), expert indices exactly.
 */
const INT8_TOLERANCE = 1e-5;
/**
 * qdq on webgpu (SwiftShader) and on wasm vs onnxruntime-node with graph optimizations at "basic": the same
 * float32 math (dequantized weights × float pixels) summed in another order, so only rounding differs:
 * |Δ| ≤ 1e-4 · (1 + |reference|). NOT the default "all" level: there, native ORT on x86 fuses
 * DequantizeLinear + MatMul into a dynamically quantized MatMul (it quantizes the pixels to 8 bits too),
 * which onnxruntime-web does not do; the spec logs that gap without asserting on it.
 */
const QDQ_RELATIVE_TOLERANCE = 1e-4;

test.describe.configure({ mode: "serial" });

let manifest: ModelManifest;
let inputs: Float32Array;
let inputSource: string;
const defaultReference = new OrtNodeRunner(MODELS_DIR);

test.beforeAll(() => {
  const manifestPath = join(MODELS_DIR, "manifest.json");
  if (!existsSync(manifestPath)) {
    throw new Error(`${manifestPath} is missing: run \`npm run models:build\` (then \`npm run build\`)`);
  }
  manifest = manifestSchema.parse(JSON.parse(readFileSync(manifestPath, "utf8")));
  ({ inputs, inputSource } = testInputs(ROWS));
});

function model(name: string, variant: ManifestModel["variant"]): ManifestModel {
  const entry = findModel(manifest, name, variant);
  if (!entry) throw new Error(`the manifest has no ${name} (${variant})`);
  return entry;
}

/** The first ROWS Fashion-MNIST test images (pixel/255), or seeded pixel-like rows when the set is absent. */
function testInputs(rows: number): { inputs: Float32Array; inputSource: string } {
  if (existsSync(FASHION_TEST_IMAGES)) {
    const idx = gunzipSync(readFileSync(FASHION_TEST_IMAGES));
    if (idx.readUInt32BE(0) !== 0x803 || idx.readUInt32BE(8) * idx.readUInt32BE(12) !== COLS) {
      throw new Error(`${FASHION_TEST_IMAGES} is not an IDX file of 28×28 images`);
    }
    const pixels = idx.subarray(16, 16 + rows * COLS);
    return { inputs: Float32Array.from(pixels, (p) => p / 255), inputSource: "Fashion-MNIST test images" };
  }
  let state = 12345;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 8) / 16777216;
  return {
    inputs: Float32Array.from({ length: rows * COLS }, () => Math.round(next() * 255) / 255),
    inputSource: "seeded pixel-like values (Fashion-MNIST not installed)",
  };
}

/** onnxruntime-node at graph optimization level "basic", behind the two methods nodeReference uses. */
async function basicReference(): Promise<Pick<OrtNodeRunner, "load" | "run">> {
  const sessions = new Map<string, ortNode.InferenceSession>();
  return {
    async load(source) {
      if (source.kind !== "manifest") throw new Error("manifest sources only");
      const bytes = readFileSync(join(MODELS_DIR, source.entry.file));
      const session = await ortNode.InferenceSession.create(bytes, { graphOptimizationLevel: "basic" });
      sessions.set(source.entry.sha256, session);
      return {
        sha256: source.entry.sha256,
        inputName: session.inputNames[0]!,
        inputCols: COLS,
        outputNames: [...session.outputNames],
        outputCols: 0,
        fromCache: false,
        loadMs: 0,
      };
    },
    async run(sha256, input, rows) {
      const session = sessions.get(sha256)!;
      const results = await session.run({
        [session.inputNames[0]!]: new ortNode.Tensor("float32", input, [rows, COLS]),
      });
      const outputs: Record<string, { data: Float32Array; cols: number }> = {};
      for (const [name, tensor] of Object.entries(results)) {
        const data = Float32Array.from(tensor.data as ArrayLike<number>, Number);
        outputs[name] = { data, cols: data.length / rows };
      }
      return { outputs, ms: 0 };
    },
  };
}

function base64(values: Float32Array | Uint8Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64");
}

async function openExpertsPage(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
  await page.goto("/?test=1");
  await page.waitForFunction(() => window.openSwarm?.experts !== undefined, null, { timeout: 30_000 });
}

interface PageLoad {
  ok: boolean;
  code?: string;
  message?: string;
  provider?: string;
  fromCache?: boolean;
  inputCols?: number;
  outputs?: Record<string, { data: number[]; cols: number }>;
  inputIntact?: boolean;
}

/**
 * In the page: load `name`/`variant` from the served manifest (optionally forcing a provider) and run the
 * base64 rows in batches; errors come back as { ok: false, code, message }.
 */
function loadAndRun(
  page: Page,
  name: string,
  variant: string,
  rowsBase64: string | null,
  batchRows: number,
  provider?: "wasm" | "webgpu",
): Promise<PageLoad> {
  return page.evaluate(
    async ({ name, variant, rowsBase64, batchRows, provider }) => {
      const ex = window.openSwarm!.experts!;
      try {
        const runner = provider ? ex.createRunner({ provider }) : ex.runner;
        const fetched = await ex.loadManifest();
        const loaded = await runner.load(ex.source(fetched, name, variant as "int8"));
        if (rowsBase64 === null) return { ok: true, provider: loaded.provider, fromCache: loaded.fromCache };
        const raw = Uint8Array.from(atob(rowsBase64), (c) => c.charCodeAt(0));
        const all = new Float32Array(raw.buffer);
        const cols = loaded.inputCols;
        const outputs: Record<string, { data: number[]; cols: number }> = {};
        let inputIntact = true;
        for (let start = 0; start * cols < all.length; start += batchRows) {
          const batch = all.subarray(start * cols, Math.min(all.length, (start + batchRows) * cols));
          const before = batch[0];
          const out = await runner.run(loaded.sha256, batch, batch.length / cols);
          inputIntact &&= batch.length > 0 && batch[0] === before; // the caller's array is not detached
          for (const [key, value] of Object.entries(out.outputs)) {
            const acc = (outputs[key] ??= { data: [], cols: value.cols });
            acc.data.push(...value.data);
          }
        }
        return {
          ok: true,
          provider: loaded.provider,
          fromCache: loaded.fromCache,
          inputCols: cols,
          outputs,
          inputIntact,
        };
      } catch (error) {
        const e = error as { code?: string; message?: string; name?: string };
        return { ok: false, code: e.code ?? e.name ?? "unknown", message: e.message ?? String(error) };
      }
    },
    { name, variant, rowsBase64, batchRows, provider },
  );
}

/**
 * onnxruntime-node on the same rows, in the same batches: the project's reference runner (default graph
 * optimizations), or a session at optimization level "basic" (no quantization-aware fusions).
 */
async function nodeReference(
  entry: ManifestModel,
  rows: Float32Array,
  batchRows: number,
  level: "default" | "basic" = "default",
): Promise<RunOutput["outputs"]> {
  const reference = level === "default" ? defaultReference : await basicReference();
  const loaded = await reference.load({ kind: "manifest", entry, url: "" });
  const merged: Record<string, { data: number[]; cols: number }> = {};
  for (let start = 0; start * loaded.inputCols < rows.length; start += batchRows) {
    const batch = rows.subarray(
      start * loaded.inputCols,
      Math.min(rows.length, (start + batchRows) * loaded.inputCols),
    );
    const out = await reference.run(entry.sha256, batch, batch.length / loaded.inputCols);
    for (const [key, value] of Object.entries(out.outputs)) {
      (merged[key] ??= { data: [], cols: value.cols }).data.push(...value.data);
    }
  }
  return Object.fromEntries(
    Object.entries(merged).map(([k, v]) => [k, { data: Float32Array.from(v.data), cols: v.cols }]),
  );
}

/** Largest |a − b|, and the largest |a − b| / (1 + |b|). */
function differences(a: readonly number[], b: Float32Array): { maxAbs: number; maxRel: number } {
  expect(a.length).toBe(b.length);
  let maxAbs = 0;
  let maxRel = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / (1 + Math.abs(b[i]!)));
  }
  return { maxAbs, maxRel };
}

function modelRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    if (/\/models\/[^/]+\.onnx(\?|$)/.test(request.url())) seen.push(request.url());
  });
  return seen;
}

function cachedInPage(page: Page): Promise<string[]> {
  // Read the Cache API from the page itself, not through the worker that wrote it.
  return page.evaluate(async () => {
    const cache = await caches.open("open-swarm-models-v1");
    return (await cache.keys()).map((r) => new URL(r.url).pathname.split("/").pop() ?? "");
  });
}

test("int8 gate, expert and whole MoE on wasm match onnxruntime-node; a reload loads them from the cache", async ({
  page,
}) => {
  const gate = model("gate", "int8");
  const expert = model("expert-0", "int8");
  const moe = model("moe", "int8");
  const entries = [gate, expert, moe];
  const requests = modelRequests(page);
  await openExpertsPage(page);
  await page.evaluate(() => window.openSwarm!.experts!.clearCache());

  const rows = base64(inputs);
  for (const entry of entries) {
    const browser = await loadAndRun(page, entry.name, "int8", rows, BATCH_ROWS);
    expect(browser, browser.message).toMatchObject({
      ok: true,
      provider: "wasm",
      fromCache: false,
      inputIntact: true,
    });
    const native = await nodeReference(entry, inputs, BATCH_ROWS);
    for (const output of entry.outputs) {
      const got = browser.outputs![output.name]!;
      const want = native[output.name]!;
      expect(got.cols).toBe(want.cols);
      const { maxAbs } = differences(got.data, want.data);
      console.log(
        `${entry.file} ${output.name}: ${ROWS} rows of ${inputSource}, max |wasm − node| = ${maxAbs}`,
      );
      if (output.type === "int64") expect(maxAbs).toBe(0);
      else expect(maxAbs).toBeLessThanOrEqual(INT8_TOLERANCE);
    }
  }
  for (const entry of entries) expect(requests.filter((u) => u.endsWith(`/${entry.file}`))).toHaveLength(1);
  expect((await cachedInPage(page)).sort()).toEqual(entries.map((e) => e.sha256).sort());

  requests.length = 0;
  await page.reload();
  await page.waitForFunction(() => window.openSwarm?.experts !== undefined);
  const firstBatch = inputs.subarray(0, BATCH_ROWS * COLS);
  for (const entry of entries) {
    // Cached bytes, new worker, new session: still the same numbers.
    const again = await loadAndRun(page, entry.name, "int8", base64(firstBatch), BATCH_ROWS);
    expect(again, again.message).toMatchObject({ ok: true, provider: "wasm", fromCache: true });
    const native = await nodeReference(entry, firstBatch, BATCH_ROWS);
    const name = entry.outputs[0]!.name;
    expect(differences(again.outputs![name]!.data, native[name]!.data).maxAbs).toBeLessThanOrEqual(
      INT8_TOLERANCE,
    );
  }
  expect(requests).toEqual([]);
});

test("a corrupt model file is a digest mismatch, nothing is cached, and a good file then loads", async ({
  page,
}) => {
  const entry = model("expert-1", "int8");
  const good = readFileSync(join(MODELS_DIR, entry.file));
  const flipped = Buffer.from(good);
  for (let i = 64; i < flipped.length; i += 997) flipped[i] = flipped[i]! ^ 0xff;
  await openExpertsPage(page);
  await page.evaluate(() => window.openSwarm!.experts!.clearCache());
  let served = 0;
  await page.route(`**/models/${entry.file}`, (route) => {
    served++;
    return route.fulfill({ status: 200, body: flipped, contentType: "application/octet-stream" });
  });

  const bad = await loadAndRun(page, entry.name, "int8", null, BATCH_ROWS);
  expect(served).toBe(1); // the worker's fetch went through the route
  expect(bad.ok).toBe(false);
  expect(bad.code).toBe("digest_mismatch");
  expect(bad.message).toContain(entry.sha256);
  expect(bad.message).toContain(createHash("sha256").update(flipped).digest("hex"));
  expect(await page.evaluate(() => window.openSwarm!.experts!.cachedDigests())).toEqual([]);
  expect(await cachedInPage(page)).toEqual([]);

  await page.unroute(`**/models/${entry.file}`);
  const fixed = await loadAndRun(page, entry.name, "int8", null, BATCH_ROWS);
  expect(fixed, fixed.message).toMatchObject({ ok: true, fromCache: false });
  expect(await cachedInPage(page)).toEqual([entry.sha256]);
});

test("bytes that match their digest but are not ONNX are corrupt_model and not cached", async ({ page }) => {
  await openExpertsPage(page);
  await page.evaluate(() => window.openSwarm!.experts!.clearCache());
  const garbage = Buffer.from("not an onnx model: ".repeat(200));
  const sha256 = createHash("sha256").update(garbage).digest("hex");
  const result = await page.evaluate(
    async ({ bytes, sha256 }) => {
      const ex = window.openSwarm!.experts!;
      try {
        const raw = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
        await ex.runner.load({ kind: "bytes", sha256, bytes: raw, label: "upload.onnx" });
        return { code: "loaded", message: "" };
      } catch (error) {
        const e = error as { code?: string; message: string; name: string };
        return { code: e.code ?? "none", message: e.message, name: e.name };
      }
    },
    { bytes: base64(garbage), sha256 },
  );
  expect(result).toMatchObject({ code: "corrupt_model", name: "ExpertError" });
  expect(result.message).toMatch(/^upload\.onnx: onnxruntime could not load the model/);
  expect(await cachedInPage(page)).toEqual([]);
});

test("wrong input shapes are bad_input naming expected vs given", async ({ page }) => {
  const entry = model("expert-0", "int8");
  await openExpertsPage(page);
  const result = await page.evaluate(async (name) => {
    const ex = window.openSwarm!.experts!;
    const fetched = await ex.loadManifest();
    const loaded = await ex.runner.load(ex.source(fetched, name, "int8"));
    const attempt = (input: Float32Array, rows: number) =>
      ex.runner.run(loaded.sha256, input, rows).then(
        () => "ran",
        (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
      );
    return {
      short: await attempt(new Float32Array(783), 1),
      rows: await attempt(new Float32Array(784 * 3), 2),
      type: await attempt(new Float64Array(784) as unknown as Float32Array, 1),
      fine: await attempt(new Float32Array(784), 1),
    };
  }, entry.name);
  expect(result.short).toMatch(
    /^bad_input: expected 1 × 784 = 784 float32 values for input "pixels".* given 783$/,
  );
  expect(result.rows).toMatch(/^bad_input: expected 2 × 784 = 1568 .* given 2352$/);
  expect(result.type).toMatch(/^bad_input: expected a Float32Array.* given Float64Array$/);
  expect(result.fine).toBe("ran");
});

test("qdq runs on webgpu when an adapter exists and agrees with onnxruntime-node", async ({ page }) => {
  const entry = model("expert-0", "qdq");
  await openExpertsPage(page);
  const info = await page.evaluate(() => window.openSwarm!.experts!.runner.info());
  test.skip(!info.webgpuAdapter, "no WebGPU adapter in this browser (launch with --enable-unsafe-webgpu)");
  console.log(`WebGPU adapter: ${info.adapterArchitecture}`);

  const rows = base64(inputs);
  const basic = await nodeReference(entry, inputs, BATCH_ROWS, "basic");
  const fused = await nodeReference(entry, inputs, BATCH_ROWS, "default");
  const fusedGap = differences(Array.from(fused["logits"]!.data), basic["logits"]!.data);
  console.log(
    `${entry.file}: node default level vs node "basic": max |Δ| = ${fusedGap.maxAbs} (not asserted)`,
  );
  for (const provider of ["webgpu", "wasm"] as const) {
    const browser = await loadAndRun(page, entry.name, "qdq", rows, BATCH_ROWS, provider);
    expect(browser, browser.message).toMatchObject({ ok: true, provider });
    const { maxAbs, maxRel } = differences(browser.outputs!["logits"]!.data, basic["logits"]!.data);
    console.log(
      `${entry.file} on ${provider} vs node "basic": max |Δ| = ${maxAbs}, max |Δ|/(1+|ref|) = ${maxRel}`,
    );
    expect(maxRel).toBeLessThanOrEqual(QDQ_RELATIVE_TOLERANCE);
  }
});
