import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/core/base/digest.ts";
import { loadVerifiedModel, type ModelBytesDeps } from "../../../src/core/experts/models/model-bytes.ts";
import { ExpertError, type ModelSource } from "../../../src/core/experts/models/index.ts";
import {
  entryFor,
  int8Expert,
  manifestSourceAt,
  MemoryModelCache,
  sha256,
  startModelServer,
  type ModelServer,
} from "./model-fixtures.ts";

/** Opens bytes the way the worker does: a real onnxruntime session (node here). */
async function openWithOrt(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes);
}

async function expectExpertError(
  promise: Promise<unknown>,
  code: string,
  text?: RegExp,
): Promise<ExpertError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ExpertError(${code}), got a result`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExpertError);
  expect((error as ExpertError).code).toBe(code);
  if (text) expect((error as ExpertError).message).toMatch(text);
  return error as ExpertError;
}

describe("loadVerifiedModel (fetch by hash, digest before use, cache after open)", () => {
  let server: ModelServer;
  const good = int8Expert(1);
  const entry = entryFor("expert-0-int8.onnx", good, "int8");
  const path = `/models/${entry.file}`;

  beforeAll(async () => {
    server = await startModelServer();
  });
  afterAll(async () => {
    await server.close();
  });

  function deps(cache: MemoryModelCache, extra: Partial<ModelBytesDeps> = {}): ModelBytesDeps {
    return { cache, fetch: (url, init) => fetch(url, init), ...extra };
  }

  it("sha256Hex agrees with node:crypto", async () => {
    expect(await sha256Hex(good)).toBe(sha256(good));
    expect(await sha256Hex(new Uint8Array())).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("downloads, opens and caches; the next load reads the cache and does not download", async () => {
    server.files.set(path, good);
    server.hits.clear();
    const cache = new MemoryModelCache();
    const first = await loadVerifiedModel(manifestSourceAt(server, entry), deps(cache), openWithOrt);
    expect(first.fromCache).toBe(false);
    expect(first.byteLength).toBe(good.byteLength);
    expect(first.value.inputNames).toEqual(["pixels"]);
    expect(await cache.list()).toEqual([entry.sha256]);
    const second = await loadVerifiedModel(manifestSourceAt(server, entry), deps(cache), openWithOrt);
    expect(second.fromCache).toBe(true);
    expect(server.hits.get(path)).toBe(1);
  });

  it("bytes that differ from the digest are refused (digest_mismatch) and never cached", async () => {
    const flipped = good.slice();
    flipped[100] = flipped[100]! ^ 0xff;
    server.files.set(path, flipped);
    const cache = new MemoryModelCache();
    let opened = 0;
    const error = await expectExpertError(
      loadVerifiedModel(manifestSourceAt(server, entry), deps(cache), async (b) => {
        opened++;
        return openWithOrt(b);
      }),
      "digest_mismatch",
    );
    expect(error.message).toContain(entry.sha256);
    expect(error.message).toContain(sha256(flipped));
    expect(opened).toBe(0); // checked BEFORE use
    expect(await cache.list()).toEqual([]);
    server.files.set(path, good);
  });

  it("a truncated download is a digest mismatch that names the manifest size", async () => {
    server.files.set(path, good.subarray(0, 1000));
    const cache = new MemoryModelCache();
    await expectExpertError(
      loadVerifiedModel(manifestSourceAt(server, entry), deps(cache), openWithOrt),
      "digest_mismatch",
      new RegExp(`1000 bytes received.*manifest says ${good.byteLength} bytes`),
    );
    expect(cache.entries.size).toBe(0);
    server.files.set(path, good);
  });

  it("bytes that match their digest but are not ONNX give corrupt_model and are never cached", async () => {
    const garbage = new TextEncoder().encode("this is not an onnx model, just text with a true sha256");
    const source: ModelSource = {
      kind: "bytes",
      sha256: sha256(garbage),
      bytes: garbage,
      label: "upload.onnx",
    };
    const cache = new MemoryModelCache();
    await expectExpertError(
      loadVerifiedModel(source, deps(cache), openWithOrt),
      "corrupt_model",
      /upload\.onnx: onnxruntime could not load the model/,
    );
    expect(cache.entries.size).toBe(0);
  });

  it("a cached entry that no longer matches its digest is deleted and fetched again", async () => {
    server.files.set(path, good);
    server.hits.clear();
    const cache = new MemoryModelCache();
    cache.entries.set(entry.sha256, new Uint8Array([1, 2, 3])); // a damaged store
    const notes: string[] = [];
    const loaded = await loadVerifiedModel(
      manifestSourceAt(server, entry),
      deps(cache, { onNote: (n) => notes.push(n) }),
      openWithOrt,
    );
    expect(loaded.fromCache).toBe(false);
    expect(server.hits.get(path)).toBe(1);
    expect(cache.entries.get(entry.sha256)).toEqual(good);
    expect(notes.join("\n")).toMatch(/deleted, downloading again/);
  });

  it("a cached entry the runtime refuses is deleted; a runtime that cannot start keeps it", async () => {
    const cache = new MemoryModelCache();
    await cache.put(entry.sha256, good);
    const source = manifestSourceAt(server, entry);
    await expectExpertError(
      loadVerifiedModel(source, deps(cache), async () => {
        throw new ExpertError("unavailable", "no runtime");
      }),
      "unavailable",
    );
    expect(cache.entries.has(entry.sha256)).toBe(true);
    await expectExpertError(
      loadVerifiedModel(source, deps(cache), async () => {
        throw new Error("protobuf parsing failed");
      }),
      "corrupt_model",
      /protobuf parsing failed/,
    );
    expect(cache.entries.has(entry.sha256)).toBe(false);
  });

  it("HTTP errors, refused connections and stalls are fetch_failed / timeout", async () => {
    const cache = new MemoryModelCache();
    const missing = entryFor("absent.onnx", good, "int8");
    await expectExpertError(
      loadVerifiedModel(manifestSourceAt(server, missing), deps(cache), openWithOrt),
      "fetch_failed",
      /HTTP 404/,
    );
    const refused: ModelSource = { kind: "manifest", entry, url: "http://127.0.0.1:1/models/x.onnx" };
    await expectExpertError(loadVerifiedModel(refused, deps(cache), openWithOrt), "fetch_failed");
    server.stall.add("/models/slow.onnx");
    const slow = { ...manifestSourceAt(server, entry), url: `${server.baseUrl}/models/slow.onnx` };
    await expectExpertError(
      loadVerifiedModel(slow, deps(cache, { fetchTimeoutMs: 200 }), openWithOrt),
      "timeout",
      /longer than 200 ms/,
    );
    expect(cache.entries.size).toBe(0);
  });

  it("a cache that cannot be written costs nothing but a note", async () => {
    server.files.set(path, good);
    const cache = new MemoryModelCache();
    cache.faultPutFails = true;
    const notes: string[] = [];
    const loaded = await loadVerifiedModel(
      manifestSourceAt(server, entry),
      deps(cache, { onNote: (n) => notes.push(n) }),
      openWithOrt,
    );
    expect(loaded.fromCache).toBe(false);
    expect(notes.join("\n")).toMatch(/not cached .*quota exceeded/);
  });
});
