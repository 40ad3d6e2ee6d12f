import { afterEach, describe, expect, it } from "vitest";
import { startSwarm, testMoe, type Swarm } from "./router-fixtures.ts";

// ClassifyOptions.signal (as RunModelOptions.signal): a classify job aborted mid-dispatch rejects with the
// signal's reason at once, and sends its hosts nothing more than what was already out.

const fixture = testMoe();
const models = { gate: fixture.gate, experts: fixture.experts, resolveManifest: fixture.resolveManifest };

let swarm: Swarm | null = null;
afterEach(async () => {
  await swarm?.close();
  swarm = null;
});

/** Resolves once `done()` holds (checked every 20 ms), or fails naming `what`. */
async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(`classify cancelled by its signal (${fixture.label})`, () => {
  it("rejects with the reason, and no batch is sent after the abort", async () => {
    swarm = startSwarm({ ...models, hosts: [{ id: "h1" }, { id: "h2" }] });
    await swarm.router.waitForHosts(10_000);
    const rows = 3_000;
    const x = fixture.inputs(rows, 5);
    const controller = new AbortController();
    const reason = new Error("cancelled by the test");
    const served = () => [...swarm!.hosts.values()].reduce((n, h) => n + h.stats().batchesServed, 0);
    const sent = () => swarm!.router.stats().hosts.reduce((n, h) => n + h.requests, 0);
    let servedAtAbort = -1;
    let sentAtAbort = -1;
    // Aborted the moment a host has served this job's first batch: the job is dispatching, with at most
    // maxInFlightPerHost (2) requests out per host, of far more batches.
    for (const host of swarm.hosts.values()) {
      host.on("stats", () => {
        if (servedAtAbort >= 0 || served() === 0) return;
        servedAtAbort = served();
        sentAtAbort = sent();
        controller.abort(reason);
      });
    }
    await expect(swarm.router.classify(x, rows, { signal: controller.signal })).rejects.toBe(reason);
    expect(servedAtAbort).toBeGreaterThan(0);
    await until("the requests out to finish", () => swarm!.router.stats().inFlight === 0);
    // Not one request after the abort; what was out (at most 2 per host) was answered, and dropped.
    expect(sent()).toBe(sentAtAbort);
    expect(served() - servedAtAbort).toBeLessThanOrEqual(2 * swarm.hosts.size);
    expect(swarm.router.stats().totals.rowsClassified).toBe(0);

    // Already aborted: refused before anything runs; the router still serves the next job.
    await expect(swarm.router.classify(x, rows, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const ok = await swarm.router.classify(x.subarray(0, 50 * fixture.cols), 50);
    expect(ok.predictions).toHaveLength(50);
  });
});
