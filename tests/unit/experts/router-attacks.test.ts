import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import { HostFault } from "../../../src/core/experts/host/faults.ts";
import type { ExpertHostRecord, RouterEvents } from "../../../src/core/experts/router/index.ts";
import { OpenSwarmDb } from "../../../src/core/storage/db.ts";
import { ExpertHostRepository } from "../../../src/core/storage/expert-host-repository.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import {
  differingRows,
  MODELS_DIR,
  seeded,
  startSwarm,
  testMoe,
  wholeGraphLogits,
  type Swarm,
  type SwarmHostSpec,
} from "./router-fixtures.ts";

// Issue 10, items 5 and 6: the attacks a modified client can make on the experts' verification, each by a
// purpose-built lying client (HostFault, test-only) over the in-memory hub, each forced to receive work first
// (testFirstBatchTo), and each asserted on: 0 wrong outputs accepted (bit-identical to the whole-graph model),
// the liar banned.

const fixture = testMoe();
const models = { gate: fixture.gate, experts: fixture.experts, resolveManifest: fixture.resolveManifest };
const reference = (x: Float32Array, rows: number) =>
  wholeGraphLogits(new OrtNodeRunner(MODELS_DIR), fixture.moe, x, rows, fixture.cols);

let swarm: Swarm | null = null;
afterEach(async () => {
  await swarm?.close();
  swarm = null;
});

function start(hosts: SwarmHostSpec[], router: Parameters<typeof startSwarm>[0]["router"] = {}): Swarm {
  swarm = startSwarm({ ...models, hosts, router: { random: seeded(21), ...router } });
  return swarm;
}

function banned(s: Swarm, peerId: string): string | null {
  return s.router.stats().hosts.find((h) => h.peerId === peerId)?.banned ?? null;
}

const forced = (...peerIds: string[]) => ({ testFirstBatchTo: { peerIds, waitMs: 10_000 } });

describe(`experts verification under attack (${fixture.label})`, () => {
  it("a false provider claim buys no tolerance: a lie that fits the old webgpu tolerance is caught", async () => {
    const liar = HostFault.create("shade", true);
    const s = start([{ id: "h1" }, { id: "liar", fault: liar, claimProvider: "webgpu" }]);
    await s.router.waitForHosts(10_000);
    const rows = 1000;
    const x = fixture.inputs(rows, 31);
    const result = await s.router.classify(x, rows, forced("liar"));
    // The forced step happened: the liar claimed webgpu, was sent work and lied with it.
    expect(s.router.stats().hosts.find((h) => h.peerId === "liar")!.provider).toBe("webgpu");
    expect(liar.snapshot().requests).toBeGreaterThanOrEqual(1);
    expect(liar.corruptedRows).toBeGreaterThan(0);
    expect(differingRows(result.logits, await reference(x, rows))).toBe(0);
    expect(banned(s, "liar")).toMatch(/canary|differ/);
    expect(result.rowsBySource["liar"]).toBeUndefined();
  });

  it("a colluding pair returning the same deterministic lie never validates itself: both banned", async () => {
    const c1 = HostFault.create("collude", true);
    const c2 = HostFault.create("collude", true);
    const s = start(
      [{ id: "h1" }, { id: "c1", fault: c1 }, { id: "c2", fault: c2 }],
      // Canaries off the table as a rescue: one per request (the floor is 1), so the pair's replication of
      // each other would be what lets a lie through if untrusted hosts could check each other.
      { canariesPerRequest: 1 },
    );
    await s.router.waitForHosts(10_000);
    const rows = 1500;
    const x = fixture.inputs(rows, 32);
    const result = await s.router.classify(x, rows, forced("c1", "c2"));
    expect(c1.snapshot().requests).toBeGreaterThanOrEqual(1);
    expect(c2.snapshot().requests).toBeGreaterThanOrEqual(1);
    expect(c1.corruptedRows + c2.corruptedRows).toBeGreaterThan(0);
    expect(differingRows(result.logits, await reference(x, rows))).toBe(0);
    expect(banned(s, "c1")).not.toBeNull();
    expect(banned(s, "c2")).not.toBeNull();
    expect(s.router.stats().totals.liarsCaught).toBe(2);
  });

  it("a colluder that earned trust vouches for its partner: caught later, and the audit catches the partner", async () => {
    // c1 is honest for 30 answers (trusted by then), then lies like c2 on 10 % of rows (chosen by content,
    // so both lie on the same rows); c2 lies from the start but only on those rows.
    const c1 = HostFault.create("collude", true, { afterRequests: 30, rowFraction: 0.1 });
    const c2 = HostFault.create("collude", true, { afterRequests: 30, rowFraction: 0.1 });
    const s = start(
      [
        { id: "c1", fault: c1 },
        { id: "c2", fault: c2 },
      ],
      { batchRows: 16 },
    );
    await s.router.waitForHosts(10_000);
    const rows = 4000;
    const x = fixture.inputs(rows, 33);
    const result = await s.router.classify(x, rows, forced("c1", "c2"));
    expect(c1.corruptedRows + c2.corruptedRows).toBeGreaterThan(0);
    expect(differingRows(result.logits, await reference(x, rows))).toBe(0);
    expect(banned(s, "c1")).not.toBeNull();
    expect(banned(s, "c2")).not.toBeNull();
  });

  it("a liar honest for its first 20 answers, then lying on 3 % of rows: caught, nothing wrong kept", async () => {
    const liar = HostFault.create("perturb", true, {
      afterRequests: 20,
      rowFraction: 0.03,
      random: seeded(5),
    });
    const s = start([{ id: "h1" }, { id: "liar", fault: liar }]);
    await s.router.waitForHosts(10_000);
    const rows = 6000;
    const x = fixture.inputs(rows, 34);
    const result = await s.router.classify(x, rows, forced("liar"));
    expect(liar.snapshot().requests).toBeGreaterThan(20);
    expect(liar.corruptedRows).toBeGreaterThan(0);
    // It was trusted when it started lying (10 consecutive valid answers), and lost it at once.
    expect(s.router.reputation.get("liar").totalValid).toBeGreaterThanOrEqual(10);
    expect(s.router.reputation.get("liar").consecutiveValid).toBe(0);
    expect(banned(s, "liar")).not.toBeNull();
    expect(differingRows(result.logits, await reference(x, rows))).toBe(0);
    expect(result.rowsBySource["liar"]).toBeUndefined();
  });

  it("a finished job that used a host banned later is recomputed and revised", async () => {
    // Honest through the first job (it is checked and trusted), lying in the second.
    const turncoat = HostFault.create("perturb", true, { afterRequests: 25 });
    const s = start([{ id: "h1" }, { id: "turncoat", fault: turncoat }], { batchRows: 32 });
    const revisions: RouterEvents["revised"][] = [];
    s.router.on("revised", (r) => revisions.push(r));
    await s.router.waitForHosts(10_000);
    const x1 = fixture.inputs(600, 35);
    const first = await s.router.classify(x1, 600, forced("turncoat"));
    expect(first.rowsBySource["turncoat"]).toBeGreaterThan(0);
    const x2 = fixture.inputs(3000, 36);
    const second = await s.router.classify(x2, 3000);
    expect(banned(s, "turncoat")).not.toBeNull();
    expect(differingRows(second.logits, await reference(x2, 3000))).toBe(0);
    await expect
      .poll(() => revisions.find((r) => r.jobId === first.jobId), { timeout: 10_000 })
      .toBeDefined();
    const revision = revisions.find((r) => r.jobId === first.jobId)!;
    expect(revision.bannedHosts).toEqual(["turncoat"]);
    const revised = revision.result as typeof first;
    expect(revised.rowsBySource["turncoat"]).toBeUndefined();
    // Recomputed: every row the turncoat computed, plus those it vouched for as h1's checker (how many
    // depends on which batches the router chose to check, so it is read from the two results).
    const vouched = (first.rowsBySource["h1"] ?? 0) - (revised.rowsBySource["h1"] ?? 0);
    expect(vouched).toBeGreaterThanOrEqual(0);
    expect(revision.rowsRecomputed).toBe(first.rowsBySource["turncoat"]! + vouched);
    const localGain = (revised.rowsBySource["local"] ?? 0) - (first.rowsBySource["local"] ?? 0);
    expect(localGain).toBe(revision.rowsRecomputed);
    expect(differingRows(revised.logits, await reference(x1, 600))).toBe(0);
  });

  it("rows a banned host gave jobs too old to keep stay as delivered, counted past revision", async () => {
    // The router keeps one finished job; the turncoat is honest for its first 40 answers (more than two
    // small jobs can ask of it), so it is caught in a later job, with its rows in older ones released.
    const turncoat = HostFault.create("perturb", true, { afterRequests: 40 });
    const s = start([{ id: "h1" }, { id: "turncoat", fault: turncoat }], {
      batchRows: 32,
      keepFinishedJobs: 1,
    });
    await s.router.waitForHosts(10_000);
    const rowsKept: number[] = [];
    for (let seed = 40; banned(s, "turncoat") === null; seed++) {
      expect(rowsKept.length, "jobs before the turncoat was caught").toBeLessThan(30);
      const result = await s.router.classify(fixture.inputs(200, seed), 200, forced("turncoat"));
      rowsKept.push(result.rowsBySource["turncoat"] ?? 0);
    }
    // Caught in the last job (its rows there recomputed); kept for revision: the one job before it.
    const caughtIn = rowsKept.length - 1;
    expect(rowsKept[caughtIn]).toBe(0);
    expect(caughtIn).toBeGreaterThanOrEqual(2);
    const pastRevision = rowsKept.slice(0, caughtIn - 1).reduce((a, b) => a + b, 0);
    expect(pastRevision).toBeGreaterThan(0);
    const host = () => s.router.stats().hosts.find((h) => h.peerId === "turncoat")!;
    await expect.poll(() => host().rowsAccepted, { timeout: 10_000 }).toBe(pastRevision);
    expect(host().rowsPastRevision).toBe(pastRevision);
    expect(s.router.stats().revisableJobs).toBe(1);
  });

  it("bans and reputation persist in IndexedDB: a reloaded requester never sends the liar anything", async () => {
    const name = `xp-attacks-${Date.now()}`;
    const db1 = new OpenSwarmDb(name);
    const repo1 = new ExpertHostRepository(db1);
    const saves: Promise<void>[] = [];
    const liar = HostFault.create("perturb", true, { random: seeded(6) });
    const s = start([{ id: "h1" }, { id: "liar", fault: liar }], {
      hostRecords: await repo1.load(),
      onHostRecords: (changed: readonly ExpertHostRecord[]) => saves.push(repo1.save(changed)),
    });
    await s.router.waitForHosts(10_000);
    await s.router.classify(fixture.inputs(500, 37), 500, forced("liar"));
    expect(banned(s, "liar")).not.toBeNull();
    await Promise.all(saves);
    await s.close();
    swarm = null;
    db1.close();

    // A reload: a new database handle and a new router, nothing carried over in memory.
    const db2 = new OpenSwarmDb(name);
    const stored = await new ExpertHostRepository(db2).load();
    const record = stored.find((r) => r.volunteerId === "liar")!;
    expect(record.banned).toMatch(/canary|differ/);
    expect(record.totalInvalid).toBeGreaterThanOrEqual(1);
    expect(stored.find((r) => r.volunteerId === "h1")!.totalValid).toBeGreaterThan(0);
    const liar2 = HostFault.create("perturb", true, { random: seeded(7) });
    const s2 = start([{ id: "h1" }, { id: "liar", fault: liar2 }], { hostRecords: stored });
    expect(banned(s2, "liar")).toBe(record.banned);
    await s2.router.waitForHosts(10_000);
    const x = fixture.inputs(800, 38);
    const result = await s2.router.classify(x, 800);
    expect(liar2.snapshot().requests).toBe(0);
    expect(result.rowsBySource["liar"]).toBeUndefined();
    for (const e of s2.router.stats().experts) expect(e.placedOn).not.toContain("liar");
    expect(differingRows(result.logits, await reference(x, 800))).toBe(0);
    db2.close();
  });
});
