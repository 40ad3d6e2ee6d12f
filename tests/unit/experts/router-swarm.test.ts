import { afterEach, describe, expect, it } from "vitest";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import type { RouterProgress } from "../../../src/core/experts/router/index.ts";
import {
  buildTinyMoe,
  bytesSource,
  differingRows,
  fashionTestImages,
  loadManifest,
  manifestResolver,
  manifestSources,
  MODELS_DIR,
  randomInputs,
  startSwarm,
  wholeGraphLogits,
  type Swarm,
} from "./router-fixtures.ts";

const tiny = buildTinyMoe({ experts: 6, topK: 2, seed: 21 });
const tinyModels = {
  gate: bytesSource(tiny.gate, "gate"),
  experts: tiny.expertModels.map((b, i) => bytesSource(b, `expert-${i}`)),
  moe: bytesSource(tiny.moe, "moe"),
};
const manifest = loadManifest();
const images = fashionTestImages(1000);

let swarm: Swarm | null = null;
afterEach(async () => {
  await swarm?.close();
  swarm = null;
});

describe("swarm mixture-of-experts: router + hosts", () => {
  it("three hosts: predictions bit-identical to the whole-graph model, work spread, verified (tiny MoE, models sent as blobs)", async () => {
    swarm = startSwarm({
      gate: tinyModels.gate,
      experts: tinyModels.experts,
      hosts: [{ id: "h1" }, { id: "h2" }, { id: "h3" }],
    });
    await swarm.router.waitForHosts(10_000);
    const rows = 1000;
    const x = randomInputs(rows, tiny.inputCols, 1);
    const progress: RouterProgress[] = [];
    const result = await swarm.router.classify(x, rows, { onProgress: (p) => progress.push(p) });
    const reference = await wholeGraphLogits(
      new OrtNodeRunner(MODELS_DIR),
      tinyModels.moe,
      x,
      rows,
      tiny.inputCols,
    );
    expect(differingRows(result.logits, reference)).toBe(0);
    expect(result.predictions).toHaveLength(rows);

    // Every expert on two hosts; each host served a real share.
    const stats = swarm.router.stats();
    for (const e of stats.experts) expect(e.readyOn).toHaveLength(2);
    for (const id of ["h1", "h2", "h3"]) expect(result.rowsBySource[id] ?? 0).toBeGreaterThan(100);
    const expertRows = result.rowsPerExpert.reduce((a, b) => a + b, 0);
    expect(Object.values(result.rowsBySource).reduce((a, b) => a + b, 0)).toBe(expertRows);
    // Verification ran: canaries in every request, untrusted hosts replicated, nobody caught.
    expect(stats.totals.canariesSent).toBeGreaterThanOrEqual(stats.hosts.reduce((n, h) => n + h.requests, 0));
    expect(stats.totals.replicatedBatches).toBeGreaterThan(0);
    expect(stats.totals.liarsCaught).toBe(0);
    for (const h of stats.hosts) {
      expect(h.p50Ms).not.toBeNull();
      expect(h.ewmaMsPerRow).toBeGreaterThan(0);
      expect(h.failures).toBe(0);
    }
    expect(stats.hosts.reduce((s, h) => s + h.share, 0)).toBeGreaterThan(0.8);
    // Progress only grows and ends at every row.
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.rowsDone).toBeGreaterThanOrEqual(progress[i - 1]!.rowsDone);
    expect(progress.at(-1)).toMatchObject({ rowsDone: rows, rows });
  });

  it("hosts that announce themselves are adopted and given experts; placement spreads them", async () => {
    swarm = startSwarm({
      gate: tinyModels.gate,
      experts: tinyModels.experts,
      hosts: [{ id: "h1" }, { id: "h2" }, { id: "h3" }],
      announce: true,
    });
    await new Promise((r) => setTimeout(r, 20));
    expect([...swarm.router.stats().volunteers].sort()).toEqual(["h1", "h2", "h3"]);
    await swarm.router.waitForHosts(10_000);
    // Adopted one by one, so the first was given everything, then asked to drop some: wait until settled.
    const settled = () => swarm!.router.stats().hosts.every((h) => h.ready.join() === h.placed.join());
    for (let i = 0; i < 200 && !settled(); i++) await new Promise((r) => setTimeout(r, 10));
    for (const h of swarm.router.stats().hosts) expect(h.ready).toHaveLength(4); // 6 experts × 2 / 3 hosts
    const x = randomInputs(400, tiny.inputCols, 4);
    const result = await swarm.router.classify(x, 400);
    const reference = await wholeGraphLogits(
      new OrtNodeRunner(MODELS_DIR),
      tinyModels.moe,
      x,
      400,
      tiny.inputCols,
    );
    expect(differingRows(result.logits, reference)).toBe(0);
  });

  it("with no volunteers the requester computes everything itself, still bit-identical", async () => {
    swarm = startSwarm({ gate: tinyModels.gate, experts: tinyModels.experts, hosts: [] });
    const x = randomInputs(300, tiny.inputCols, 2);
    const result = await swarm.router.classify(x, 300);
    const reference = await wholeGraphLogits(
      new OrtNodeRunner(MODELS_DIR),
      tinyModels.moe,
      x,
      300,
      tiny.inputCols,
    );
    expect(differingRows(result.logits, reference)).toBe(0);
    expect(Object.keys(result.rowsBySource)).toEqual(["local"]);
  });

  it("a trusted host is replicated less and less (adaptive replication)", async () => {
    swarm = startSwarm({
      gate: tinyModels.gate,
      experts: tinyModels.experts,
      hosts: [{ id: "h1" }, { id: "h2" }],
      router: { batchRows: 16 },
    });
    await swarm.router.waitForHosts(10_000);
    const x = randomInputs(2000, tiny.inputCols, 3);
    await swarm.router.classify(x, 2000);
    const stats = swarm.router.stats();
    const requests = stats.hosts.reduce((n, h) => n + h.requests, 0);
    // Replicated batches use two requests; with every host trusted after 10 agreements, most are not.
    expect(stats.totals.replicatedBatches).toBeLessThan(requests / 3);
    for (const h of stats.hosts) expect(h.trusted).toBe(true);
  });

  it.skipIf(!manifest || !images).each(["int8", "fp32", "qdq"] as const)(
    "real models: swarm predictions identical to moe-%s.onnx on 1000 Fashion-MNIST test images",
    async (variant) => {
      const models = manifestSources(manifest!, variant);
      swarm = startSwarm({
        gate: models.gate,
        experts: models.experts,
        hosts: [{ id: "h1" }, { id: "h2" }, { id: "h3" }],
        resolveManifest: manifestResolver(manifest!),
      });
      await swarm.router.waitForHosts(30_000);
      const result = await swarm.router.classify(images!, 1000);
      const reference = await wholeGraphLogits(new OrtNodeRunner(MODELS_DIR), models.moe, images!, 1000, 784);
      expect(differingRows(result.logits, reference)).toBe(0);
      expect(result.rowsPerExpert).toHaveLength(manifest!.experts);
      for (const id of ["h1", "h2", "h3"]) expect(result.rowsBySource[id] ?? 0).toBeGreaterThan(100);
      expect(swarm.router.stats().totals.liarsCaught).toBe(0);
    },
    120_000,
  );
});
