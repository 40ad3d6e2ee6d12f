import { afterEach, describe, expect, it } from "vitest";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import { ExpertRouter, MAX_CLASSIFY_ROWS } from "../../../src/core/experts/router/index.ts";
import { ExpertError } from "../../../src/core/experts/models/index.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { buildTinyMoe, bytesSource, MODELS_DIR, randomInputs, seeded } from "./router-fixtures.ts";

// Placement candidates: only peers known to run an expert host (they announced `hosting`, or answered the
// router's probe) are given experts and waited on. A peer without one (e.g. a Node volunteer that only
// solves) is offered like any other by the app, and must cost a job nothing.

const tiny = buildTinyMoe({ experts: 4, topK: 2, seed: 41 });
const models = {
  gate: bytesSource(tiny.gate, "gate"),
  experts: tiny.expertModels.map((b, i) => bytesSource(b, `expert-${i}`)),
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(hosted: readonly string[], bare: readonly string[]) {
  const hub = new MemoryExpertHub();
  const router = new ExpertRouter({
    link: hub.link("requester"),
    local: new OrtNodeRunner(MODELS_DIR),
    ...models,
    probeGraceMs: 500,
    random: seeded(2),
  });
  cleanups.push(() => router.close());
  const host = (id: string, link = hub.link(id)) => {
    const h = new ExpertHost({
      link,
      runner: new OrtNodeRunner(MODELS_DIR),
      resolveManifest: () => undefined,
      allowNonManifest: true, // the tiny test models are no site manifest
    });
    cleanups.push(() => h.close());
    return h;
  };
  for (const id of hosted) host(id);
  const bareLinks = new Map(bare.map((id) => [id, hub.link(id)]));
  return { hub, router, host, bareLinks };
}

describe("placement candidates", () => {
  it("a peer without an expert host is probed, never placed on, and not waited on", async () => {
    const { router } = setup(["h1", "h2"], ["node-1"]);
    router.setVolunteers(["h1", "node-1", "h2"]);
    const started = performance.now();
    // Waiting on the bare peer would take the full 10 min (past the test's timeout); a loaded machine takes
    // seconds, not a minute.
    await router.waitForHosts(600_000);
    expect(performance.now() - started).toBeLessThan(50_000);
    const stats = router.stats();
    expect(stats.volunteers).toEqual(["h1", "node-1", "h2"]);
    expect(stats.candidates).toEqual(["h1", "h2"]);
    for (const e of stats.experts) expect([...e.placedOn].sort()).toEqual(["h1", "h2"]);
    const result = await router.classify(randomInputs(300, tiny.inputCols, 1), 300);
    expect(Object.keys(result.rowsBySource).sort()).toEqual(["h1", "h2", "local"]);
  });

  it("with only such peers, waiting for one host per expert ends after the probe's grace, not the timeout", async () => {
    const { router } = setup([], ["node-1", "node-2"]);
    router.setVolunteers(["node-1", "node-2"]);
    const started = performance.now();
    await router.waitForHosts(10_000, 1);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(400);
    expect(waited).toBeLessThan(2_000);
    expect(router.stats().candidates).toEqual([]);
    const result = await router.classify(randomInputs(50, tiny.inputCols, 2), 50);
    expect(Object.keys(result.rowsBySource)).toEqual(["local"]);
  });

  it("a host that starts after its probe is found by a later probe or by its announcement", async () => {
    const { router, host, bareLinks } = setup([], ["late-1", "late-2"]);
    router.setVolunteers(["late-1", "late-2"]);
    await router.waitForHosts(5_000, 1); // both probes lost: nobody listens yet
    expect(router.stats().candidates).toEqual([]);
    const late1 = host("late-1", bareLinks.get("late-1")!);
    const late2 = host("late-2", bareLinks.get("late-2")!);
    late2.announce(["requester"]); // late-2 announces itself
    await new Promise((r) => setTimeout(r, 600)); // past the grace: the next setVolunteers probes again
    router.setVolunteers(["late-1", "late-2"]); // late-1 answers the new probe
    await router.waitForHosts(10_000);
    expect([...router.stats().candidates].sort()).toEqual(["late-1", "late-2"]);
    for (const e of router.stats().experts) expect(e.readyOn).toHaveLength(2);
    expect(late1.stats().hosted.length + late2.stats().hosted.length).toBe(models.experts.length * 2);
  });

  it(`classify() refuses more than ${MAX_CLASSIFY_ROWS} rows with a clear error`, async () => {
    const { router } = setup([], []);
    const error = await router.classify(new Float32Array(16), MAX_CLASSIFY_ROWS + 1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExpertError);
    expect(error).toMatchObject({ code: "bad_input" });
    expect(String(error)).toContain(`at most ${MAX_CLASSIFY_ROWS}`);
  });
});
