import { afterEach, describe, expect, it } from "vitest";
import { HostFault } from "../../../src/core/experts/host/faults.ts";
import { ExpertError } from "../../../src/core/experts/models/index.ts";
import { MAX_RUN_MODEL_ROWS, type RouterProgress } from "../../../src/core/experts/router/index.ts";
import { randomInputs } from "./router-fixtures.ts";
import {
  directOutputs,
  genericSwarm,
  sameBits,
  twoOutputModel,
  TWO_OUT_COLS,
  type GenericSwarm,
} from "./router-generic-fixtures.ts";

// ExpertRouter.runModel: an ungated model with two outputs, sharded over hosts on the in-memory hub (a FAKE
// transport: every message still goes through the wire's parsers), each host with its own onnxruntime-node
// runner. The reference is the same model run directly on one runner: same provider, so bit-identical.

const model = twoOutputModel();
let swarm: GenericSwarm | null = null;
afterEach(async () => {
  await swarm?.close();
  swarm = null;
});

async function expectExact(result: Awaited<ReturnType<GenericSwarm["router"]["runModel"]>>, x: Float32Array) {
  const reference = await directOutputs(model.source, x, result.rows);
  expect(result.outputNames).toEqual(["scores", "energy"]);
  expect(result.outputs["scores"]!.cols).toBe(5);
  expect(result.outputs["energy"]!.cols).toBe(1);
  expect(sameBits(result.outputs["scores"]!.data, reference["scores"]!.data)).toBe(true);
  expect(sameBits(result.outputs["energy"]!.data, reference["energy"]!.data)).toBe(true);
  expect(Object.values(result.rowsBySource).reduce((a, b) => a + b, 0)).toBe(result.rows);
}

describe("runModel: a generic model sharded across volunteers", () => {
  it("three hosts: both outputs of every row exact, work spread, canaries and replicas, model released after", async () => {
    swarm = genericSwarm({ hosts: [{ id: "h1" }, { id: "h2" }, { id: "h3" }] });
    const rows = 3000;
    const x = randomInputs(rows, TWO_OUT_COLS, 1);
    const progress: RouterProgress[] = [];
    const stages: string[] = [];
    const result = await swarm.router.runModel(model.source, x, rows, {
      onProgress: (p) => progress.push(p),
      onStage: (s) => stages.push(s),
    });
    await expectExact(result, x);
    expect(stages).toEqual(["placing", "running"]);
    expect(result.localOnlyReason).toBeNull();
    expect(result.hostFailures).toEqual([]);
    for (const id of ["h1", "h2", "h3"]) expect(result.rowsBySource[id] ?? 0).toBeGreaterThan(300);
    // Local rows: the canaries (about one per batch of 64) and arbitration of unreplicated batches only.
    expect(result.rowsBySource["local"] ?? 0).toBeLessThan(rows / 4);
    const stats = swarm.router.stats();
    expect(stats.totals.modelJobs).toBe(1);
    expect(stats.totals.modelRows).toBe(rows);
    expect(stats.totals.canariesSent).toBeGreaterThanOrEqual(stats.hosts.reduce((n, h) => n + h.requests, 0));
    expect(stats.totals.replicatedBatches).toBeGreaterThan(0);
    expect(stats.totals.liarsCaught).toBe(0);
    // The experts' statistics are not polluted: no expert, and no expert latency measured.
    expect(stats.experts).toEqual([]);
    for (const h of stats.hosts) expect(h.ewmaMsPerRow).toBeNull();
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.rowsDone).toBeGreaterThanOrEqual(progress[i - 1]!.rowsDone);
    expect(progress.at(-1)).toMatchObject({ rowsDone: rows, rows });
    // Every host loaded the model for the job (and checked its digest), and releases it afterwards.
    for (const h of swarm.hosts.values()) expect(h.stats().batchesServed).toBeGreaterThan(0);
    await expect
      .poll(() => [...swarm!.hosts.values()].map((h) => h.stats().hosted.length))
      .toEqual([0, 0, 0]);
  });

  it("a host killed mid-job: every row still answered, exactly", async () => {
    const dies = HostFault.create("die-mid-batch", true, { afterRequests: 3 });
    swarm = genericSwarm({ hosts: [{ id: "h1" }, { id: "h2", fault: dies }, { id: "h3" }] });
    const rows = 2500;
    const x = randomInputs(rows, TWO_OUT_COLS, 2);
    const result = await swarm.router.runModel(model.source, x, rows, { batchRows: 32 });
    await expectExact(result, x);
    expect(swarm.hub.isAlive("h2")).toBe(false);
    expect(result.rowsBySource["h1"] ?? 0).toBeGreaterThan(0);
    expect(result.rowsBySource["h3"] ?? 0).toBeGreaterThan(0);
    const h2 = swarm.router.stats().hosts.find((h) => h.peerId === "h2")!;
    expect(h2.connected).toBe(false);
    expect(h2.failures).toBeGreaterThan(0);
  });

  it("a lying host is caught and banned; none of its outputs is accepted", async () => {
    const liar = HostFault.create("perturb", true, { rowFraction: 0.2, random: () => 0.1 });
    swarm = genericSwarm({ hosts: [{ id: "h1" }, { id: "h2" }, { id: "liar", fault: liar }] });
    const rows = 2000;
    const x = randomInputs(rows, TWO_OUT_COLS, 3);
    const banned: string[] = [];
    swarm.router.on("banned", (b) => banned.push(b.peerId));
    const result = await swarm.router.runModel(model.source, x, rows);
    await expectExact(result, x);
    expect(liar.corruptedRows).toBeGreaterThan(0);
    expect(banned).toEqual(["liar"]);
    expect(result.rowsBySource["liar"] ?? 0).toBe(0);
    const stats = swarm.router.stats();
    expect(stats.totals.liarsCaught).toBe(1);
    expect(stats.hosts.find((h) => h.peerId === "liar")!.banned).toMatch(/canary|differ/);
    expect(stats.hosts.find((h) => h.peerId === "liar")!.banned).toContain("model ");
  });

  it("a host that earns trust, then lies: what it gave the running job is recomputed", async () => {
    const liar = HostFault.create("perturb", true, { afterRequests: 30, rowFraction: 0.05 });
    swarm = genericSwarm({ hosts: [{ id: "h1" }, { id: "liar", fault: liar }] });
    const rows = 6000;
    const x = randomInputs(rows, TWO_OUT_COLS, 4);
    const result = await swarm.router.runModel(model.source, x, rows, { batchRows: 32 });
    await expectExact(result, x);
    expect(liar.corruptedRows).toBeGreaterThan(0);
    expect(swarm.router.stats().hosts.find((h) => h.peerId === "liar")!.banned).not.toBeNull();
    expect(result.rowsBySource["liar"] ?? 0).toBe(0);
  });

  it("alone (this tab's own host only): no canaries, no replication, one row computed by the requester", async () => {
    swarm = genericSwarm({ hosts: [], selfHost: true });
    const rows = 1000;
    const x = randomInputs(rows, TWO_OUT_COLS, 5);
    const result = await swarm.router.runModel(model.source, x, rows);
    await expectExact(result, x);
    // One row to learn the outputs, everything else by this tab's host, nothing computed twice.
    expect(result.rowsBySource).toEqual({ local: 1, requester: rows - 1 });
    const totals = swarm.router.stats().totals;
    expect(totals.canariesSent).toBe(0);
    expect(totals.replicatedBatches).toBe(0);
    expect(totals.localRows).toBe(1);
  });

  it("with no volunteer at all: computed here, and it says so", async () => {
    swarm = genericSwarm({ hosts: [] });
    const x = randomInputs(300, TWO_OUT_COLS, 6);
    const result = await swarm.router.runModel(model.source, x, 300);
    await expectExact(result, x);
    expect(result.rowsBySource).toEqual({ local: 300 });
    expect(result.localOnlyReason).toBe("no volunteer hosts the model");
  });

  it("a peer without an expert host is not waited on", async () => {
    swarm = genericSwarm({ hosts: [{ id: "h1" }], bare: ["node-volunteer"], router: { probeGraceMs: 400 } });
    const x = randomInputs(500, TWO_OUT_COLS, 7);
    const started = performance.now();
    // Waiting on the bare peer would take the full hostWaitMs (10 min, past the test's timeout); a loaded
    // machine takes seconds, not a minute.
    const result = await swarm.router.runModel(model.source, x, 500, { hostWaitMs: 600_000 });
    expect(performance.now() - started).toBeLessThan(50_000);
    await expectExact(result, x);
    expect(result.rowsBySource["h1"] ?? 0).toBeGreaterThan(0);
    const stats = swarm.router.stats();
    expect(stats.volunteers).toContain("node-volunteer");
    expect(stats.candidates).toEqual(["h1"]);
    expect(stats.hosts.map((h) => h.peerId)).toEqual(["h1"]);
  });

  it("refuses bad input with specific errors, and stops when aborted", async () => {
    swarm = genericSwarm({ hosts: [{ id: "h1" }] });
    const router = swarm.router;
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e,
      );
    const wrongWidth = await fail(router.runModel(model.source, new Float32Array(10 * 7), 10));
    expect(wrongWidth).toBeInstanceOf(ExpertError);
    expect(wrongWidth).toMatchObject({ code: "bad_input" });
    expect(String(wrongWidth)).toContain(`${TWO_OUT_COLS} values per row`);
    const tooMany = await fail(router.runModel(model.source, new Float32Array(0), MAX_RUN_MODEL_ROWS + 1));
    expect(tooMany).toMatchObject({ code: "bad_input" });
    const nan = randomInputs(4, TWO_OUT_COLS, 1);
    nan[5] = Number.NaN;
    expect(await fail(router.runModel(model.source, nan, 4))).toMatchObject({ code: "bad_input" });
    const corrupt = { kind: "bytes", sha256: "0".repeat(64), bytes: model.bytes, label: "x" } as const;
    expect(await fail(router.runModel(corrupt, randomInputs(4, TWO_OUT_COLS, 1), 4))).toMatchObject({
      code: "digest_mismatch",
    });

    const controller = new AbortController();
    const rows = 20_000;
    let running = false;
    const job = router.runModel(model.source, randomInputs(rows, TWO_OUT_COLS, 8), rows, {
      signal: controller.signal,
      batchRows: 16,
      onStage: (stage) => (running = stage === "running"),
      onProgress: (p) => {
        // 5,000 rows are canaries computed here first (4 per batch of 16): 2,000 more came from the volunteer.
        if (running && p.rowsDone > 7000) controller.abort(new Error("user cancelled"));
      },
    });
    await expect(job).rejects.toThrow("user cancelled");
    const served = swarm.hosts.get("h1")!.stats().rowsServed;
    expect(served).toBeGreaterThan(500);
    // Batches stop where they are: the host gets (almost) nothing more.
    await new Promise((r) => setTimeout(r, 300));
    expect(swarm.hosts.get("h1")!.stats().rowsServed).toBeLessThan(served + 16 * 17 * 4);
    expect(swarm.hosts.get("h1")!.stats().rowsServed).toBeLessThan(rows / 2);
    // The router stays usable, and the volunteers are told to release the model.
    const x = randomInputs(100, TWO_OUT_COLS, 9);
    await expectExact(await router.runModel(model.source, x, 100), x);
  });
});
