import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerExperts } from "../../../api/server-experts.ts";
import { ServerSwarm } from "../../../api/swarm-requester.ts";
import { DEFAULT_SWARM_SETTINGS } from "../../../api/swarm-config.ts";
import { argmaxRows, type RouterProgress } from "../../../src/core/experts/router/index.ts";
import {
  compareOutputs,
  toleranceForSource,
} from "../../../src/core/experts/router/verification/tolerance.ts";
import type { ExpertHostStats } from "../../../src/core/experts/host/index.ts";
import { FileIdentityStore } from "../../../src/node/identity-file.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { NodeVolunteer } from "../../../src/node/volunteer.ts";
import { ServerMetrics } from "../../../signaling/metrics.ts";
import type { TestServer } from "../signaling/helpers.ts";
import {
  bytesSource,
  differingRows,
  fashionTestImages,
  loadManifest,
  manifestSources,
  MODELS_DIR,
  wholeGraphLogits,
} from "../experts/router-fixtures.ts";
import { directOutputs, sameBits } from "../experts/router-generic-fixtures.ts";
import { startApiServer } from "./helpers.ts";

// The server's classify and onnx jobs (api/server-experts.ts: the tab's ExpertRouter on the server's swarm
// peer, src/node/expert-requester.ts) against the real server on a loopback port, which serves
// public/models as a deployed server does, and one real Node volunteer hosting experts (`open-swarm
// volunteer --experts`, in this process, over libwebrtc on loopback). Which batches reach the volunteer
// is forced (testFirstBatchTo), and every expected value is read from the run or computed here by
// onnxruntime-node, never assumed.

const manifest = loadManifest();
const IMAGES = 300;
/** CI-load allowance for the volunteer to link, be placed on and load its experts before the first batch. */
const FIRST_BATCH_WAIT_MS = 45_000;

let server: TestServer;
let volunteer: NodeVolunteer;
let swarm: ServerSwarm;
let experts: ServerExperts;
/** Called with the volunteer's expert host stats at every change (synchronously, as the host emits them). */
let onHostStats = (_stats: ExpertHostStats): void => {};
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), "open-swarm-server-experts-"));
  dirs.push(dir);
  return dir;
};
const control = (signal = new AbortController().signal, onProgress = (_p: RouterProgress) => {}) => ({
  signal,
  onProgress,
});

/** Resolves once `done()` holds (checked every 50 ms), or fails naming `what`. */
async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(manifest !== null && fashionTestImages(1) !== null)("the server's expert jobs", () => {
  beforeAll(async () => {
    server = await startApiServer();
    // Served as a deployed server serves its build's public/models.
    symlinkSync(MODELS_DIR, path.join(server.staticDir, "models"));
    volunteer = await NodeVolunteer.start({
      server: server.baseUrl,
      identityStore: new FileIdentityStore(path.join(tempDir(), "identity.json")),
      threads: 1,
      experts: { modelCacheDir: tempDir() },
      onChange: (_snapshot, _peers, _peakLinks, stats) => {
        if (stats) onHostStats(stats);
      },
    });
    const logger = pino({ level: "silent" });
    const settings = { ...DEFAULT_SWARM_SETTINGS, dataDir: tempDir(), joinTimeoutMs: 60_000 };
    swarm = new ServerSwarm(settings, new ServerMetrics(), logger);
    experts = new ServerExperts({ swarm, settings, origin: () => server.baseUrl, logger });
  });
  afterAll(async () => {
    await experts?.close();
    await swarm?.close();
    await volunteer?.leave();
    await server?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("classifies test images with the volunteer doing rows, identically to the whole graph run by onnxruntime-node", async () => {
    const pixels = fashionTestImages(IMAGES)!;
    const peerId = volunteer.swarm.identity.peerId;
    const result = await experts.classify(pixels, IMAGES, {
      ...control(),
      testFirstBatchTo: { peerIds: [peerId], waitMs: FIRST_BATCH_WAIT_MS },
    });
    const moe = manifestSources(manifest!, "int8").moe;
    const reference = await wholeGraphLogits(new OrtNodeRunner(MODELS_DIR), moe, pixels, IMAGES, 784);
    expect(differingRows(result.logits, reference)).toBe(0);
    expect([...result.predictions]).toEqual([...argmaxRows(reference, 10)]);
    expect(result.rowsBySource[peerId]).toBeGreaterThan(0);
    expect(volunteer.expertStats()!.rowsServed).toBeGreaterThan(0);
  });

  it("a job cancelled by its signal rejects with the reason, and no more of its batches reach the volunteer", async () => {
    const rows = 3_000;
    const pixels = fashionTestImages(rows)!;
    const peerId = volunteer.swarm.identity.peerId;
    const controller = new AbortController();
    const reason = new Error("cancelled by the test");
    const servedBefore = volunteer.expertStats()!.batchesServed;
    // Requests the server's router sent the volunteer so far.
    const sent = () => experts.stats()?.hosts.find((h) => h.peerId === peerId)?.requests ?? 0;
    let servedAtAbort = -1;
    let sentAtAbort = -1;
    // Aborted the moment the volunteer has served this job's first batch (its forced one): the job is
    // then dispatching, and at most maxInFlightPerHost of its ~50 batches for the volunteer are out.
    onHostStats = (stats) => {
      if (servedAtAbort >= 0 || stats.batchesServed === servedBefore) return;
      servedAtAbort = stats.batchesServed;
      sentAtAbort = sent();
      controller.abort(reason);
    };
    const job = experts.classify(pixels, rows, {
      ...control(controller.signal),
      testFirstBatchTo: { peerIds: [peerId], waitMs: FIRST_BATCH_WAIT_MS },
    });
    await expect(job).rejects.toBe(reason);
    expect(servedAtAbort).toBeGreaterThan(servedBefore);
    // What was already out finishes (the volunteer answers it, the answer is dropped); then all is quiet.
    await until("the router's and the volunteer's queues to empty", () => {
      const host = volunteer.expertStats()!;
      return experts.stats()!.inFlight === 0 && host.queuedRequests === 0;
    });
    // Not one request after the abort; what was out was answered (and dropped).
    expect(sent()).toBe(sentAtAbort);
    const servedAfterAbort = volunteer.expertStats()!.batchesServed - servedAtAbort;
    // Only requests already sent when it aborted (the router keeps at most 2 out per host: core.ts).
    expect(servedAfterAbort).toBeLessThanOrEqual(2);

    const early = new AbortController();
    early.abort(reason);
    await expect(experts.classify(pixels, rows, control(early.signal))).rejects.toBe(reason);
  });

  it("without the swarm computes every row on the server, identically; bad input is a specific error", async () => {
    const alone = new ServerExperts({
      swarm: null,
      settings: { dataDir: tempDir() },
      origin: () => server.baseUrl,
      logger: pino({ level: "silent" }),
    });
    try {
      const rows = 50;
      const pixels = fashionTestImages(rows)!;
      const result = await alone.classify(pixels, rows, control());
      const moe = manifestSources(manifest!, "int8").moe;
      const reference = await wholeGraphLogits(new OrtNodeRunner(MODELS_DIR), moe, pixels, rows, 784);
      expect(differingRows(result.logits, reference)).toBe(0);
      expect(Object.keys(result.rowsBySource)).toEqual(["local"]);
      await expect(alone.classify(pixels, rows + 1, control())).rejects.toMatchObject({ code: "bad_input" });
      const nan = pixels.slice();
      nan[7] = Number.NaN;
      await expect(alone.classify(nan, rows, control())).rejects.toMatchObject({ code: "bad_input" });
      await expect(alone.runModel(new Uint8Array([1, 2, 3]), pixels, rows, control())).rejects.toMatchObject({
        code: "corrupt_model",
      });
    } finally {
      await alone.close();
    }
  });

  it("runs an uploaded ONNX model on a batch, with outputs identical to the model run by onnxruntime-node", async () => {
    const bytes = new Uint8Array(readFileSync(path.join(MODELS_DIR, "expert-3-fp32.onnx")));
    const rows = 100;
    const input = fashionTestImages(rows)!;
    const result = await experts.runModel(bytes, input, rows, control());
    const expected = await directOutputs(bytesSource(bytes, "upload"), input, rows);
    expect(result.outputNames).toEqual(Object.keys(expected));
    // Rows computed here are the same bits; a volunteer may run the model at another graph optimisation
    // level (it knows these bytes as a manifest model), so its rows are held to the router's own tolerance
    // for an upload, the one its verification accepted them under.
    const { tolerance } = toleranceForSource(bytesSource(bytes, "upload"));
    for (const name of result.outputNames) {
      const { data, cols } = result.outputs[name]!;
      expect(compareOutputs(data, expected[name]!.data, cols, tolerance).ok).toBe(true);
      if (result.rowsBySource["local"] === rows) expect(sameBits(data, expected[name]!.data)).toBe(true);
    }
    expect(Object.values(result.rowsBySource).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(rows);
  });
});
