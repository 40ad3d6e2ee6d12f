import { afterEach, describe, expect, it } from "vitest";
import { HostFault } from "../../../src/core/experts/host/faults.ts";
import { DEFAULT_REPUTATION_POLICY } from "../../../src/core/trust/reputation.ts";
import { seeded, startSwarm, testMoe, type Swarm, type SwarmHostSpec } from "./router-fixtures.ts";

// Qualification (router/verification/qualification.ts): while no job runs, hosts nobody trusts yet get
// batches of sample rows, each checked in full against the requester's own computation, so they are
// trusted (or banned) before the first job instead of inside it. Real ORT runs on both sides; the liar is
// a purpose-built lying client (HostFault, test-only).

const fixture = testMoe();
const models = { gate: fixture.gate, experts: fixture.experts, resolveManifest: fixture.resolveManifest };
const trustAfter = DEFAULT_REPUTATION_POLICY.trustAfter;

let swarm: Swarm | null = null;
afterEach(async () => {
  await swarm?.close();
  swarm = null;
});

function start(hosts: SwarmHostSpec[]): Swarm {
  swarm = startSwarm({ ...models, hosts, router: { random: seeded(7) } });
  return swarm;
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const hostOf = (s: Swarm, id: string) => s.router.stats().hosts.find((h) => h.peerId === id);

describe(`experts: new hosts qualify before the first job (${fixture.label})`, () => {
  it("honest hosts are trusted before any job, and the first job checks them as trusted hosts", async () => {
    const s = start([{ id: "h1" }, { id: "h2" }]);
    await s.router.waitForHosts(30_000);
    // Without samples nothing is sent: trust is earned in jobs only.
    expect(s.router.stats().totals.qualificationBatches).toBe(0);
    s.router.qualifyWith(fixture.inputs(500, 3), 500);
    await until(() => !!hostOf(s, "h1")?.trusted && !!hostOf(s, "h2")?.trusted, "both hosts trusted");
    const totals = s.router.stats().totals;
    expect(totals.jobs).toBe(0);
    expect(totals.qualificationBatches).toBeGreaterThanOrEqual(2 * trustAfter);
    for (const id of ["h1", "h2"]) {
      expect(s.router.reputation.get(id).consecutiveValid).toBeGreaterThanOrEqual(trustAfter);
    }
    // It stops once a host is trusted: nothing more goes out while the router idles.
    const sent = s.router.stats().totals.qualificationBatches;
    await new Promise((r) => setTimeout(r, 200));
    expect(s.router.stats().totals.qualificationBatches).toBeLessThanOrEqual(sent + 2); // in flight at trust

    const rows = 600;
    const before = s.router.stats().totals;
    const result = await s.router.classify(fixture.inputs(rows, 4), rows);
    const after = s.router.stats().totals;
    // Trusted hosts are checked in full with probability 1/consecutiveValid ≤ 1/trustAfter, not always.
    const remote = after.remoteBatches - before.remoteBatches;
    expect(remote).toBeGreaterThan(0);
    expect(after.replicatedBatches - before.replicatedBatches).toBeLessThan(remote);
    expect(result.rowsBySource["h1"] ?? 0).toBeGreaterThan(0);
  });

  it("a host that lies on the sample rows is banned before any job and gets no job's rows", async () => {
    const liar = HostFault.create("perturb", true);
    const s = start([{ id: "h1" }, { id: "liar", fault: liar }]);
    await s.router.waitForHosts(30_000);
    s.router.qualifyWith(fixture.inputs(500, 5), 500);
    await until(() => hostOf(s, "liar")?.banned != null, "the liar banned");
    expect(liar.corruptedRows).toBeGreaterThan(0);
    expect(hostOf(s, "liar")!.banned).toMatch(/before any job/);
    expect(s.router.stats().totals.jobs).toBe(0);
    const rows = 300;
    const result = await s.router.classify(fixture.inputs(rows, 6), rows);
    expect(result.rowsBySource["liar"]).toBeUndefined();
  });
});
