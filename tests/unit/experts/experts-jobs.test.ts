import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { argmaxRows } from "../../../src/core/experts/router/index.ts";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost, type ExpertHostFault } from "../../../src/core/experts/host/index.ts";
import type { FaultAction, HostFaultSnapshot } from "../../../src/core/experts/host/host-fault.ts";
import {
  type FetchedManifest,
  manifestByDigest,
  manifestResolver,
} from "../../../src/core/experts/models/index.ts";
import { FASHION_MNIST_CLASSES, type ModelManifest } from "../../../src/core/protocol/manifest.ts";
import { writeNpy } from "../../../src/core/formats/npy.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { ExpertsJobs } from "../../../src/state/experts/jobs.ts";
import { createExpertsStore, type ExpertsStore } from "../../../src/state/experts/store.ts";
import { buildTinyMoe, seeded, sha256, type TinyMoe } from "./router-fixtures.ts";

// The experts view's requester runtime end to end in one process: a tiny real MoE (onnx-proto graphs,
// 784 inputs like the real one), a "tab" whose router reaches its own host through the link's loopback plus
// a second tab's host (MemoryExpertHub: a FAKE transport, every message still through the wire's parsers),
// the test set served as gzip IDX by an injected fetch. The labels are the whole-graph model's own
// predictions, so accuracy 1 means the swarm answered exactly like the single-process graph.

const ROWS = 300;
let dir: string;
let moe: TinyMoe;
let fetched: FetchedManifest;
let images: Uint8Array;
let labels: Uint8Array;

function idx3(pixels: Uint8Array, count: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(16 + pixels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000803);
  view.setUint32(4, count);
  view.setUint32(8, 28);
  view.setUint32(12, 28);
  out.set(pixels, 16);
  return out;
}

function idx1(values: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(8 + values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000801);
  view.setUint32(4, values.length);
  out.set(values, 8);
  return out;
}

/** Serves the test set (or 404 with the server's JSON when `missing`). */
function datasetFetch(missing = false): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const url = String(input);
    if (missing) {
      return new Response(
        JSON.stringify({ error: "dataset_not_installed", message: "apt-get install dataset-fashion-mnist" }),
        {
          status: 404,
        },
      );
    }
    if (url.endsWith("t10k-images")) return new Response(gzipSync(idx3(images, ROWS)));
    if (url.endsWith("t10k-labels")) return new Response(gzipSync(idx1(labels)));
    return new Response("not found", { status: 404 });
  }) as typeof fetch;
}

/** Model bytes as a BlobPart (the fixtures' arrays may sit on any ArrayBufferLike). */
function modelBlob(expert: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(moe.expertModels[expert]!);
}

interface Tabs {
  hub: MemoryExpertHub;
  store: ExpertsStore;
  jobs: ExpertsJobs;
  hosts: ExpertHost[];
  close(): Promise<void>;
}

/** TEST ONLY, a lying client: tab-b's host serves honestly until `lying` is set, then moves every output. */
class SwitchableLiar implements ExpertHostFault {
  lying = false;
  requests = 0;
  corruptedRows = 0;
  diedHoldingRows: number | null = null;
  onRequest(): FaultAction {
    this.requests++;
    return "serve";
  }
  corrupt(output: Float32Array, cols: number): Float32Array {
    if (!this.lying) return output;
    this.corruptedRows += output.length / cols;
    return output.map((v) => v + 0.5);
  }
  snapshot(): HostFaultSnapshot {
    const { requests, corruptedRows, diedHoldingRows } = this;
    return { mode: "switchable-liar", requests, corruptedRows, diedHoldingRows };
  }
}

function twoTabs(fetchFn: typeof fetch, tabBFault?: ExpertHostFault): Tabs {
  const hub = new MemoryExpertHub();
  const resolve = manifestResolver(fetched.manifest, (file) => path.join(dir, file));
  const linkA = hub.link("tab-a");
  const linkB = hub.link("tab-b");
  const hosts = [linkA, linkB].map(
    (link) =>
      new ExpertHost({
        link,
        runner: new OrtNodeRunner(dir),
        resolveManifest: resolve,
        ...(link === linkB && tabBFault ? { fault: tabBFault } : {}),
      }),
  );
  const store = createExpertsStore();
  const jobs = new ExpertsJobs({
    store,
    link: linkA,
    runner: new OrtNodeRunner(dir),
    manifest: Promise.resolve(fetched),
    fetch: fetchFn,
    hostWaitMs: 10_000,
  });
  store.attach(jobs);
  return {
    hub,
    store,
    jobs,
    hosts,
    async close() {
      jobs.close();
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "open-swarm-experts-jobs-"));
  moe = buildTinyMoe({ cols: 784, experts: 4, topK: 2, seed: 11 });
  const files: [string, string, number | undefined, Uint8Array][] = [
    ["gate", "gate-int8.onnx", undefined, moe.gate],
    ["moe", "moe-int8.onnx", undefined, moe.moe],
    ...moe.expertModels.map((bytes, i): [string, string, number, Uint8Array] => [
      `expert-${i}`,
      `expert-${i}-int8.onnx`,
      i,
      bytes,
    ]),
  ];
  const io = (name: string, cols: number) => [{ name, type: "float32" as const, shape: ["N", cols] }];
  const manifest: ModelManifest = {
    version: 1,
    dataset: "fashion-mnist",
    inputSize: 784,
    classes: [...FASHION_MNIST_CLASSES],
    experts: 4,
    topK: 2,
    hiddenUnits: 1,
    models: files.map(([name, file, expert, bytes]) => {
      writeFileSync(path.join(dir, file), bytes);
      return {
        name,
        role: name === "gate" ? "gate" : name === "moe" ? "moe" : "expert",
        ...(expert === undefined ? {} : { expert }),
        variant: "int8",
        file,
        sha256: sha256(bytes),
        bytes: bytes.length,
        inputs: io("pixels", 784),
        outputs: name === "gate" ? io("weights", 4) : io("logits", 10),
        providers: ["wasm"],
      };
    }),
    accuracy: { fp32: 1, int8: 1, qdq: 1, testImages: ROWS },
    training: { note: "unit-test fixture" },
  };
  fetched = { manifest, url: `file://${dir}/manifest.json` };

  // Test images, labelled with the whole graph's own predictions.
  const random = seeded(5);
  images = Uint8Array.from({ length: ROWS * 784 }, () => Math.floor(random() * 256));
  const reference = new OrtNodeRunner(dir);
  const loaded = await reference.load({
    kind: "bytes",
    sha256: sha256(moe.moe),
    bytes: moe.moe,
    label: "moe",
  });
  const pixels = Float32Array.from(images, (v) => v / 255);
  const out = await reference.run(loaded.sha256, pixels, ROWS);
  labels = Uint8Array.from(argmaxRows(out.outputs["logits"]!.data, 10));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("ExpertsJobs: classify through the router", () => {
  it("classifies the test set across two tabs' hosts exactly as the whole graph does", async () => {
    const tabs = twoTabs(datasetFetch());
    try {
      await tabs.store.getState().actions.classifyTestSet(ROWS);
      const job = tabs.store.getState().classify!;
      expect(job.error).toBeNull();
      expect(job.phase).toBe("done");
      expect(job.rowsDone).toBe(ROWS);
      expect(job.accuracy).toBe(1);
      expect(job.correct).toBe(ROWS);
      // top-2 routing: every row went to exactly two experts.
      expect(job.rowsPerExpert.reduce((a, b) => a + b, 0)).toBe(ROWS * 2);
      expect(job.chosenPerExpert.reduce((a, b) => a + b, 0)).toBe(ROWS * 2);
      // Volunteers computed rows (this tab's host via loopback, the other tab's host), not only "local".
      const remote = Object.entries(job.rowsBySource).filter(([source]) => source !== "local");
      expect(remote.length).toBeGreaterThan(0);
      expect(remote.reduce((a, [, n]) => a + n, 0)).toBeGreaterThan(ROWS);
      expect(job.previews.length).toBe(16);
      expect(job.previews[0]!.pixels.length).toBe(784);
      expect([...job.previews[0]!.pixels.subarray(0, 784)]).toEqual([...images.subarray(0, 784)]);

      const router = tabs.store.getState().router!;
      expect(router.hosts.map((h) => h.peerId).sort()).toEqual(["tab-a", "tab-b"]);
      expect(router.totals.rowsClassified).toBe(ROWS);
      const served = tabs.hosts.reduce((a, h) => a + h.stats().rowsServed, 0);
      expect(served).toBeGreaterThan(0);

      const whole = await tabs.jobs.wholeGraphPredictions(tabs.jobs.lastInput!.pixels, ROWS);
      expect([...whole]).toEqual([...job.predictions!]);
    } finally {
      await tabs.close();
    }
  });

  it("a job that finished before its volunteer was caught lying is revised, and the view says so", async () => {
    const liar = new SwitchableLiar();
    const tabs = twoTabs(datasetFetch(), liar);
    try {
      await tabs.store.getState().actions.classifyTestSet(ROWS);
      const first = tabs.store.getState().classify!;
      expect(first.phase).toBe("done");
      const fromB = first.rowsBySource["tab-b"] ?? 0;
      expect(fromB, "rows tab-b computed in the first job").toBeGreaterThan(0);
      expect(first.revised).toBeNull();
      liar.lying = true;
      await tabs.store.getState().actions.classifyTestSet(ROWS);
      const second = tabs.store.getState().classify!;
      expect(second.phase).toBe("done");
      expect(liar.corruptedRows).toBeGreaterThan(0);
      expect(tabs.store.getState().router?.hosts.find((h) => h.peerId === "tab-b")?.banned).not.toBeNull();
      expect(second.accuracy).toBe(1); // nothing of the liar kept in the running job
      // The first job, no longer shown, is listed as revised: tab-b's rows recomputed here, still correct.
      await expect.poll(() => tabs.store.getState().revisedJobs.length, { timeout: 10_000 }).toBe(1);
      expect(tabs.store.getState().revisedJobs[0]).toMatchObject({
        id: first.id,
        bannedHosts: ["tab-b"],
        rowsRecomputed: fromB,
        accuracy: 1,
      });
    } finally {
      await tabs.close();
    }
  });

  it("still answers every row when the only other host is paused (its experts come from this tab)", async () => {
    const tabs = twoTabs(datasetFetch());
    try {
      tabs.hosts[1]!.pause();
      await tabs.store.getState().actions.classifyTestSet(64);
      const job = tabs.store.getState().classify!;
      expect(job.phase).toBe("done");
      expect(job.accuracy).toBe(1);
      expect(job.rowsBySource["tab-b"] ?? 0).toBe(0);
    } finally {
      await tabs.close();
    }
  });

  it("says how to get the data set when the server has none", async () => {
    const tabs = twoTabs(datasetFetch(true));
    try {
      await tabs.store.getState().actions.classifyTestSet(10);
      const job = tabs.store.getState().classify!;
      expect(job.phase).toBe("failed");
      expect(job.error?.code).toBe("dataset_missing");
      expect(job.error?.message).toContain("apt-get install dataset-fashion-mnist");
    } finally {
      await tabs.close();
    }
  });

  it("refuses a count outside 1..10000 with a clear error", async () => {
    const tabs = twoTabs(datasetFetch());
    try {
      await tabs.store.getState().actions.classifyTestSet(0);
      expect(tabs.store.getState().classify?.error?.code).toBe("bad_shape");
    } finally {
      await tabs.close();
    }
  });
});

describe("ExpertsJobs: uploaded IDX files", () => {
  it("classifies a gzip IDX3 upload labelled by an IDX1 file, with accuracy", async () => {
    const tabs = twoTabs(datasetFetch());
    try {
      const n = 40;
      const files = [
        new File([gzipSync(idx3(images.subarray(0, n * 784), n))], "my-images-idx3-ubyte.gz"),
        new File([idx1(labels.subarray(0, n))], "my-labels-idx1-ubyte"),
      ];
      await tabs.store.getState().actions.classifyFiles(files, { invert: "auto" });
      const job = tabs.store.getState().classify!;
      expect(job.error).toBeNull();
      expect(job.source).toBe("upload");
      expect(job.rows).toBe(n);
      expect(job.accuracy).toBe(1);
      expect(job.description).toBe("40 IDX images");
    } finally {
      await tabs.close();
    }
  });

  it("refuses labels that do not match the images, and files that are neither images nor IDX", async () => {
    const tabs = twoTabs(datasetFetch());
    try {
      const files = [
        new File([idx3(images.subarray(0, 5 * 784), 5)], "five.idx"),
        new File([idx1(labels.subarray(0, 4))], "four-labels.idx"),
      ];
      await tabs.store.getState().actions.classifyFiles(files, { invert: "auto" });
      expect(tabs.store.getState().classify?.error?.code).toBe("bad_shape");
      await tabs.store
        .getState()
        .actions.classifyFiles([new File(["hello"], "notes.txt")], { invert: "auto" });
      const error = tabs.store.getState().classify?.error;
      expect(error?.code).toBe("bad_file");
      expect(error?.message).toContain("notes.txt");
    } finally {
      await tabs.close();
    }
  });
});

describe("ExpertsJobs: the generic ONNX job", () => {
  it("runs an uploaded model on a .npy batch and keeps every output for download", async () => {
    const tabs = twoTabs(datasetFetch());
    try {
      const rows = 300; // more than one chunk of 256
      const input = Float32Array.from({ length: rows * 784 }, (_, i) => ((i * 7) % 255) / 255);
      await tabs.store
        .getState()
        .actions.runGeneric(
          new File([modelBlob(2)], "expert-2.onnx"),
          new File([writeNpy(input, [rows, 784])], "batch.npy"),
        );
      const job = tabs.store.getState().generic!;
      expect(job.error).toBeNull();
      expect(job.phase).toBe("done");
      expect(job.inputShape).toEqual([rows, 784]);
      expect(job.outputs).toEqual([{ name: "logits", cols: 10 }]);
      expect(job.modelSha256).toBe(sha256(moe.expertModels[2]!));
      const outputs = tabs.store.getState().actions.genericOutputs()!;
      const direct = new OrtNodeRunner(dir);
      // The upload is one of the site's models: run as the site's (manifest source), everywhere.
      await direct.load(manifestByDigest(fetched.manifest, (f) => path.join(dir, f))(job.modelSha256)!);
      const expected = await direct.run(job.modelSha256, input, rows);
      expect([...outputs.get("logits")!.data]).toEqual([...expected.outputs["logits"]!.data]);
    } finally {
      await tabs.close();
    }
  });

  it("takes a JSON batch too", async () => {
    const tabs = twoTabs(datasetFetch());
    try {
      const body = JSON.stringify({
        shape: [2, 784],
        data: Array.from({ length: 2 * 784 }, (_, i) => (i % 3) / 3),
      });
      await tabs.store
        .getState()
        .actions.runGeneric(new File([modelBlob(0)], "e.onnx"), new File([body], "b.json"));
      expect(tabs.store.getState().generic?.phase).toBe("done");
    } finally {
      await tabs.close();
    }
  });

  it("gives specific errors: not ONNX, a protobuf onnxruntime refuses, a batch of the wrong width", async () => {
    const tabs = twoTabs(datasetFetch());
    const batch = () => new File([writeNpy(new Float32Array(2 * 784), [2, 784])], "b.npy");
    try {
      await tabs.store
        .getState()
        .actions.runGeneric(new File(["this is not a model at all"], "garbage.onnx"), batch());
      expect(tabs.store.getState().generic?.error?.code).toBe("not_onnx");

      const fake = new Uint8Array(64);
      fake.set([0x08, 0x07, 0x3a, 0x30]); // ir_version 7, then a graph field whose bytes are nonsense
      await tabs.store.getState().actions.runGeneric(new File([fake], "broken.onnx"), batch());
      expect(tabs.store.getState().generic?.error?.code).toBe("not_onnx");

      await tabs.store
        .getState()
        .actions.runGeneric(
          new File([modelBlob(0)], "e.onnx"),
          new File([writeNpy(new Float32Array(20), [2, 10])], "b.npy"),
        );
      const error = tabs.store.getState().generic?.error;
      expect(error?.code).toBe("bad_shape");
      expect(error?.message).toContain("784");
    } finally {
      await tabs.close();
    }
  });
});
