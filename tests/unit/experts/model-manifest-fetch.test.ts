import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ExpertError, fetchManifest, manifestSource } from "../../../src/core/experts/models/index.ts";
import { entryFor, int8Expert, startModelServer, type ModelServer } from "./model-fixtures.ts";

const manifest = {
  version: 1,
  dataset: "fashion-mnist",
  inputSize: 784,
  classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  experts: 2,
  topK: 2,
  hiddenUnits: 16,
  models: [entryFor("expert-0-int8.onnx", int8Expert(1), "int8")],
  accuracy: { fp32: 0.9, int8: 0.9, qdq: 0.9, testImages: 10 },
  training: { seed: 1 },
};

describe("fetchManifest / manifestSource", () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startModelServer();
    server.files.set("/models/manifest.json", new TextEncoder().encode(JSON.stringify(manifest)));
    server.files.set(
      "/bad/manifest.json",
      new TextEncoder().encode(JSON.stringify({ ...manifest, inputSize: 1 })),
    );
    server.files.set("/text/manifest.json", new TextEncoder().encode("<html>"));
  });
  afterAll(async () => {
    await server.close();
  });

  const get = (url: string) => fetch(url);

  it("validates the manifest and resolves model URLs against it", async () => {
    const fetched = await fetchManifest(`${server.baseUrl}/models/manifest.json`, get);
    const source = manifestSource(fetched, "expert-0", "int8");
    expect(source).toMatchObject({ kind: "manifest", url: `${server.baseUrl}/models/expert-0-int8.onnx` });
    expect(() => manifestSource(fetched, "expert-0", "qdq")).toThrow(/has no model expert-0 \(qdq\)/);
  });

  it("names what is wrong", async () => {
    const codes = await Promise.all(
      ["/bad/manifest.json", "/text/manifest.json", "/nope/manifest.json"].map((p) =>
        fetchManifest(`${server.baseUrl}${p}`, get).then(
          () => "ok",
          (e: ExpertError) => `${e.code}: ${e.message}`,
        ),
      ),
    );
    expect(codes[0]).toMatch(/^corrupt_model: .* is not a valid model manifest \(inputSize: /);
    expect(codes[1]).toMatch(/^fetch_failed: .*JSON/);
    expect(codes[2]).toMatch(/^fetch_failed: .*HTTP 404/);
  });
});
