import { afterEach, describe, expect, it } from "vitest";
import { type ExpertLink, MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import { HostFault } from "../../../src/core/experts/host/faults.ts";
import { type ClassifyResult, ExpertRouter } from "../../../src/core/experts/router/index.ts";
import { ExpertError } from "../../../src/core/experts/models/index.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { differingRows, MODELS_DIR, seeded, testMoe, wholeGraphLogits } from "./router-fixtures.ts";

// The test-only knob ClassifyOptions.testFirstBatchTo (the ?test=1 hook's firstBatchTo): a job's first batch
// goes to a named host, even one that joined after the others were measured (which the routing policy alone
// may never pick), after waiting for it to load an expert. The e2e spec uses it to make sure the host that
// dies or lies really gets a batch; here it is checked without a browser, on the in-memory hub.

const fixture = testMoe();
const ROWS = 600;

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A router whose infer-requests are recorded (destination, in sending order) and two measured hosts. */
async function measuredSwarm() {
  const hub = new MemoryExpertHub();
  const base = hub.link("requester");
  const inferRequestsTo: string[] = [];
  const link: ExpertLink = {
    ...base,
    send: (to, message) => {
      if (message.kind === "infer-request") inferRequestsTo.push(to);
      return base.send(to, message);
    },
  };
  const router = new ExpertRouter({
    link,
    local: new OrtNodeRunner(MODELS_DIR),
    gate: fixture.gate,
    experts: fixture.experts,
    random: seeded(99),
  });
  cleanups.push(() => router.close());
  const hosts = new Map<string, ExpertHost>();
  const addHost = (id: string, fault?: HostFault): ExpertHost => {
    const host = new ExpertHost({
      link: hub.link(id),
      runner: new OrtNodeRunner(MODELS_DIR),
      resolveManifest: fixture.resolveManifest,
      ...(fault ? { fault } : {}),
    });
    cleanups.push(() => host.close());
    hosts.set(id, host);
    router.setVolunteers([...hosts.keys()]);
    return host;
  };
  addHost("h1");
  addHost("h2");
  await router.waitForHosts(10_000);
  // A first job measures h1 and h2: from now on the policy prefers them to anyone new.
  await router.classify(fixture.inputs(300, 1), 300);
  inferRequestsTo.length = 0;
  return { router, addHost, inferRequestsTo };
}

async function expectExact(result: ClassifyResult, x: Float32Array): Promise<void> {
  const reference = await wholeGraphLogits(new OrtNodeRunner(MODELS_DIR), fixture.moe, x, ROWS, fixture.cols);
  expect(differingRows(result.logits, reference)).toBe(0);
}

describe(`test-only testFirstBatchTo (${fixture.label})`, () => {
  it("sends the job's first batch to a host that joined just now, once it has loaded an expert", async () => {
    const { router, addHost, inferRequestsTo } = await measuredSwarm();
    // Joins and is classified at once: it has not loaded anything yet, so the job waits for it.
    const late = addHost("late");
    const x = fixture.inputs(ROWS, 2);
    const result = await router.classify(x, ROWS, {
      testFirstBatchTo: { peerIds: ["late"], waitMs: 20_000 },
    });
    expect(inferRequestsTo[0]).toBe("late");
    expect(late.stats().batchesServed).toBeGreaterThanOrEqual(1);
    const entry = router.stats().hosts.find((h) => h.peerId === "late")!;
    expect(entry.placed.length).toBeGreaterThan(0);
    expect(entry.requests).toBeGreaterThanOrEqual(1);
    expect(entry.banned).toBeNull();
    await expectExact(result, x);
  });

  it("several hosts named: the job's first batches go one to each, in the order given", async () => {
    const { router, addHost, inferRequestsTo } = await measuredSwarm();
    const late = [addHost("late-1"), addHost("late-2")];
    const x = fixture.inputs(ROWS, 6);
    const result = await router.classify(x, ROWS, {
      testFirstBatchTo: { peerIds: ["late-1", "late-2"], waitMs: 20_000 },
    });
    expect(inferRequestsTo.slice(0, 2)).toEqual(["late-1", "late-2"]);
    for (const host of late) expect(host.stats().batchesServed).toBeGreaterThanOrEqual(1);
    for (const id of ["late-1", "late-2"]) expect(result.rowsBySource[id] ?? 0).toBeGreaterThan(0);
    await expectExact(result, x);
  });

  it("a host forced first that dies holding the batch: the batch goes elsewhere, every row answered", async () => {
    const { router, addHost, inferRequestsTo } = await measuredSwarm();
    const dies = HostFault.create("die-mid-batch", true, { afterRequests: 0 });
    const victim = addHost("victim", dies);
    const before = router.stats().totals;
    const x = fixture.inputs(ROWS, 3);
    const result = await router.classify(x, ROWS, {
      testFirstBatchTo: { peerIds: ["victim"], waitMs: 20_000 },
    });
    expect(inferRequestsTo[0]).toBe("victim");
    expect(victim.stats().fault).toMatchObject({ mode: "die-mid-batch", requests: 1 });
    expect(dies.diedHoldingRows).toBeGreaterThan(0);
    const entry = router.stats().hosts.find((h) => h.peerId === "victim")!;
    expect(entry.requests).toBeGreaterThanOrEqual(1);
    expect(entry.failures).toBeGreaterThanOrEqual(1);
    expect(entry.rowsAccepted).toBe(0);
    expect(result.rowsBySource["victim"]).toBeUndefined();
    expect(router.stats().totals.retries).toBeGreaterThan(before.retries);
    await expectExact(result, x);
  });

  it("a liar forced first is caught by the canary in that very batch, banned, nothing of it accepted", async () => {
    const { router, addHost, inferRequestsTo } = await measuredSwarm();
    const lies = HostFault.create("perturb", true, { random: seeded(4) });
    addHost("liar", lies);
    const x = fixture.inputs(ROWS, 4);
    const result = await router.classify(x, ROWS, {
      testFirstBatchTo: { peerIds: ["liar"], waitMs: 20_000 },
    });
    expect(inferRequestsTo[0]).toBe("liar");
    expect(lies.corruptedRows).toBeGreaterThan(0);
    const entry = router.stats().hosts.find((h) => h.peerId === "liar")!;
    // The forced batch is the job's first: it carries a fresh canary, which the perturbation cannot pass.
    expect(entry.canaryFailures).toBeGreaterThanOrEqual(1);
    expect(entry.banned).toMatch(/canary/);
    expect(entry.rowsAccepted).toBe(0);
    expect(result.rowsBySource["liar"]).toBeUndefined();
    await expectExact(result, x);
  });

  it("a host that never serves an expert: the job fails after waitMs, saying which host and why", async () => {
    const { router, inferRequestsTo } = await measuredSwarm();
    const x = fixture.inputs(ROWS, 5);
    const job = router.classify(x, ROWS, { testFirstBatchTo: { peerIds: ["h1", "nobody"], waitMs: 300 } });
    await expect(job).rejects.toBeInstanceOf(ExpertError);
    await expect(job).rejects.toMatchObject({
      code: "timeout",
      message: expect.stringMatching(/firstBatchTo: nobody .*300 ms \(never announced hosting/),
    });
    // Nothing was dispatched before the job gave up.
    expect(inferRequestsTo).toEqual([]);
    expect(router.stats().inFlight).toBe(0);
  });
});
