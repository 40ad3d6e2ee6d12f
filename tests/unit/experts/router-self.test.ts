import { afterEach, describe, expect, it } from "vitest";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import { ExpertRouter } from "../../../src/core/experts/router/index.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import {
  buildTinyMoe,
  bytesSource,
  differingRows,
  MODELS_DIR,
  randomInputs,
  seeded,
  wholeGraphLogits,
} from "./router-fixtures.ts";

// The requester's own host (same tab, reached through the link's loopback) runs the requester's own code:
// its answers are trusted like the requester's own runner. Before, with one tab alone, every batch it
// served was replicated and, with no second host, recomputed by the requester: most rows twice.

const tiny = buildTinyMoe({ experts: 4, topK: 2, seed: 31 });
const models = {
  gate: bytesSource(tiny.gate, "gate"),
  experts: tiny.expertModels.map((b, i) => bytesSource(b, `expert-${i}`)),
  moe: bytesSource(tiny.moe, "moe"),
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tab(hub: MemoryExpertHub, id: string, withRouter: boolean) {
  const link = hub.link(id);
  const host = new ExpertHost({
    link,
    runner: new OrtNodeRunner(MODELS_DIR),
    resolveManifest: () => undefined,
    allowNonManifest: true, // the tiny test models are no site manifest
  });
  cleanups.push(() => host.close());
  if (!withRouter) return { host, router: null };
  const router = new ExpertRouter({
    link,
    local: new OrtNodeRunner(MODELS_DIR),
    ...models,
    random: seeded(4),
  });
  cleanups.push(() => router.close());
  return { host, router };
}

describe("this tab's own host is trusted", () => {
  it("one tab alone: no canary, no replica, no row computed twice; exact", async () => {
    const hub = new MemoryExpertHub();
    const { host, router } = tab(hub, "me", true);
    router!.setVolunteers(["me"]);
    await router!.waitForHosts(10_000);
    const rows = 800;
    const x = randomInputs(rows, tiny.inputCols, 1);
    const result = await router!.classify(x, rows);
    const reference = await wholeGraphLogits(
      new OrtNodeRunner(MODELS_DIR),
      models.moe,
      x,
      rows,
      tiny.inputCols,
    );
    expect(differingRows(result.logits, reference)).toBe(0);
    const expertRows = result.rowsPerExpert.reduce((a, b) => a + b, 0);
    expect(result.rowsBySource).toEqual({ me: expertRows });
    const { totals } = router!.stats();
    expect(totals.localRows).toBe(0);
    expect(totals.canaryRows).toBe(0);
    expect(totals.canariesSent).toBe(0);
    expect(totals.replicatedBatches).toBe(0);
    expect(totals.arbitrationRows).toBe(0);
    // The host computed each expert row exactly once.
    expect(host.stats().rowsServed).toBe(expertRows);
  });

  it("with another tab: canaries and replicas only for the other tab's batches", async () => {
    const hub = new MemoryExpertHub();
    const me = tab(hub, "me", true);
    const other = tab(hub, "other", false);
    const router = me.router!;
    router.setVolunteers(["me", "other"]);
    await router.waitForHosts(10_000);
    const rows = 1500;
    const x = randomInputs(rows, tiny.inputCols, 2);
    const result = await router.classify(x, rows);
    const reference = await wholeGraphLogits(
      new OrtNodeRunner(MODELS_DIR),
      models.moe,
      x,
      rows,
      tiny.inputCols,
    );
    expect(differingRows(result.logits, reference)).toBe(0);
    const stats = router.stats();
    const mine = stats.hosts.find((h) => h.peerId === "me")!;
    const theirs = stats.hosts.find((h) => h.peerId === "other")!;
    expect(mine.rowsAccepted).toBeGreaterThan(0);
    expect(theirs.rowsAccepted).toBeGreaterThan(0);
    // Four canaries in every request to the other tab (the default), none in this tab's.
    expect(theirs.requests).toBeGreaterThan(0);
    expect(stats.totals.canariesSent).toBe(4 * theirs.requests);
    expect(theirs.rowsSent).toBeGreaterThan(theirs.rowsAccepted);
    expect(other.host.stats().rowsServed).toBe(theirs.rowsSent);
    // Replicas of the other tab's batches may go to this tab's host; its own are never replicated, so
    // the requester's own rows are the canaries plus arbitration of the other tab's batches only.
    expect(stats.totals.localRows).toBe(stats.totals.canaryRows + stats.totals.arbitrationRows);
  });
});
