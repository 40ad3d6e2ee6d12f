import { afterEach, describe, expect, it } from "vitest";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import { ExpertRouter } from "../../../src/core/experts/router/index.ts";
import type { ModelRunner, ModelSource } from "../../../src/core/experts/models/index.ts";
import type { XpHosting } from "../../../src/core/protocol/experts.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { buildTinyMoe, bytesSource, MODELS_DIR, randomInputs, seeded } from "./router-fixtures.ts";

// A first run: the volunteers are still loading their experts when the job starts. Hosts announce each
// model as it loads (pipelined), the router offers placement before any job (prefetch), and a batch waits
// for a host still loading its expert instead of being computed by the requester. Loads are held by a
// gate the test opens (a runner whose load waits: test-only fault injection), so "still loading" is
// forced, not hoped for.

const tiny = buildTinyMoe({ experts: 4, topK: 2, seed: 43 });
const models = {
  gate: bytesSource(tiny.gate, "gate"),
  experts: tiny.expertModels.map((b, i) => bytesSource(b, `expert-${i}`)),
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** TEST ONLY (fault injection): a real runner whose loads wait until `open()`; `held(sha)` opens one. */
function heldRunner(): { runner: ModelRunner; open(sha?: string): void; waiting(): number } {
  const real = new OrtNodeRunner(MODELS_DIR);
  const gates = new Map<string, () => void>();
  let openAll = false;
  const opened = new Set<string>();
  return {
    runner: {
      get provider() {
        return real.provider;
      },
      async load(source: ModelSource) {
        const sha = source.kind === "bytes" ? source.sha256 : source.entry.sha256;
        if (!openAll && !opened.has(sha)) await new Promise<void>((resolve) => gates.set(sha, resolve));
        return real.load(source);
      },
      run: (sha, input, rows) => real.run(sha, input, rows),
      unload: (sha) => real.unload(sha),
    },
    open(sha) {
      if (sha === undefined) openAll = true;
      else opened.add(sha);
      for (const [s, go] of gates) {
        if (sha === undefined || s === sha) {
          gates.delete(s);
          go();
        }
      }
    },
    waiting: () => gates.size,
  };
}

/** The requester's own runner, counting its runs (gate, canaries, fallback). */
function countingRunner(): { runner: ModelRunner; runs: () => number } {
  const real = new OrtNodeRunner(MODELS_DIR);
  let runs = 0;
  return {
    runner: {
      get provider() {
        return real.provider;
      },
      load: (source) => real.load(source),
      run: (sha, input, rows) => {
        runs++;
        return real.run(sha, input, rows);
      },
      unload: (sha) => real.unload(sha),
    },
    runs: () => runs,
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function host(hub: MemoryExpertHub, id: string, runner: ModelRunner): ExpertHost {
  // The tiny test models are no site manifest.
  const h = new ExpertHost({
    link: hub.link(id),
    runner,
    resolveManifest: () => undefined,
    allowNonManifest: true,
  });
  cleanups.push(() => h.close());
  return h;
}

describe("first run of experts", () => {
  it("a host announces each model as soon as it loads, before it answers the whole request", async () => {
    const hub = new MemoryExpertHub();
    const held = heldRunner();
    const h = host(hub, "h1", held.runner);
    const link = hub.link("req");
    const heard: XpHosting[] = [];
    link.onMessage((_from, m) => {
      if (m.kind === "hosting") heard.push(m);
    });
    const [first, second] = models.experts as Extract<ModelSource, { kind: "bytes" }>[];
    for (const s of [first!, second!]) await link.sendModelBytes("h1", s.bytes);
    await link.send("h1", {
      kind: "host-request",
      requestId: "h1-req",
      models: [first!, second!].map((s) => ({
        source: "blob" as const,
        sha256: s.sha256,
        bytes: s.bytes.length,
        label: s.label,
      })),
    });
    await until(() => held.waiting() === 2, "both loads to start");
    held.open(first!.sha256);
    await until(() => heard.length > 0, "the first model's announcement");
    expect(heard[0]).toMatchObject({ requestId: null, hosted: [first!.sha256] });
    expect(h.stats().hosted).toEqual([first!.sha256]);
    held.open(second!.sha256);
    await until(() => heard.some((m) => m.requestId === "h1-req"), "the answer");
    const answer = heard.find((m) => m.requestId === "h1-req")!;
    expect([...answer.hosted].sort()).toEqual([first!.sha256, second!.sha256].sort());
  });

  it("prefetch: a host that joins after it is offered its experts before any job", async () => {
    const hub = new MemoryExpertHub();
    const requester = countingRunner();
    const router = new ExpertRouter({
      link: hub.link("requester"),
      local: requester.runner,
      ...models,
      random: seeded(3),
    });
    cleanups.push(() => router.close());
    router.prefetch([]);
    const h = host(hub, "late", new OrtNodeRunner(MODELS_DIR));
    const hosting: XpHosting[] = [];
    h.on("hosting", (e) => hosting.push(e.hosting));
    h.announce(["requester"]);
    await until(() => hosting.some((m) => m.hosted.length > 0), "the joining host to load experts");
    expect(router.stats().totals.jobs).toBe(0);
    expect(h.stats().hosted.length).toBeGreaterThan(0);
    // The requester's own copies (canaries, fallback) started loading too: the gate runs with no wait.
    expect(router.stats().candidates).toEqual(["late"]);
  });

  it("a job started while every host is still loading computes only its canaries here", async () => {
    const hub = new MemoryExpertHub();
    const requester = countingRunner();
    const router = new ExpertRouter({
      link: hub.link("requester"),
      local: requester.runner,
      ...models,
      random: seeded(5),
    });
    cleanups.push(() => router.close());
    const held = [heldRunner(), heldRunner()];
    host(hub, "h1", held[0]!.runner);
    host(hub, "h2", held[1]!.runner);
    router.setVolunteers(["h1", "h2"]);
    await router.waitForProbes(5_000);
    expect([...router.stats().candidates].sort()).toEqual(["h1", "h2"]);
    await until(() => held.every((x) => x.waiting() > 0), "both hosts to start loading");

    const rows = 300;
    const job = router.classify(randomInputs(rows, tiny.inputCols, 9), rows);
    // The job has gated its rows and computed every expert's canaries (1 gate run + 1 per expert) while
    // no host serves anything yet: what it does now is the point of the test.
    await until(() => requester.runs() >= 1 + tiny.experts, "the gate and the canaries");
    expect(router.stats().totals.fallbackRows).toBe(0);
    for (const x of held) x.open();
    const result = await job;

    const expertRows = result.rowsPerExpert.reduce((s, n) => s + n, 0);
    const local = result.rowsBySource["local"] ?? 0;
    const totals = router.stats().totals;
    expect(totals.fallbackRows).toBe(0);
    expect(local).toBe(totals.canaryRows);
    // 4 canaries per 64-row batch: well under 15 % of the expert rows (before: every row, as nobody was
    // ready when the job began).
    expect(local / expertRows).toBeLessThanOrEqual(0.15);
    expect((result.rowsBySource["h1"] ?? 0) + (result.rowsBySource["h2"] ?? 0)).toBe(expertRows - local);
  });

  it("make before break: an expert moved to a joining host stays on its loaded host until the newcomer has it", async () => {
    const hub = new MemoryExpertHub();
    const link = hub.link("requester");
    // Every host-request the requester sends to h1 or h2, from the moment h3 is offered.
    const toOld: string[] = [];
    let watching = false;
    const send = link.send.bind(link);
    link.send = (to, message) => {
      if (watching && message.kind === "host-request" && to !== "h3") toOld.push(to);
      return send(to, message);
    };
    const router = new ExpertRouter({
      link,
      local: new OrtNodeRunner(MODELS_DIR),
      ...models,
      random: seeded(7),
    });
    cleanups.push(() => router.close());
    const ready = [
      host(hub, "h1", new OrtNodeRunner(MODELS_DIR)),
      host(hub, "h2", new OrtNodeRunner(MODELS_DIR)),
    ];
    router.setVolunteers(["h1", "h2"]);
    const all = tiny.experts;
    // Two hosts, two replicas: both load every expert.
    await until(() => ready.every((h) => h.stats().hosted.length === all), "h1 and h2 to load every expert");
    const held = heldRunner();
    const late = host(hub, "h3", held.runner);
    watching = true;
    router.setVolunteers(["h1", "h2", "h3"]);
    await until(() => held.waiting() > 0, "h3 to start loading what it was placed");
    const placed = router.stats().experts.map((x) => x.placedOn);
    const moved = placed.flatMap((on, e) => (on.includes("h3") ? [e] : []));
    expect(moved.length).toBeGreaterThan(0); // the newcomer takes experts from h1 or h2
    // While h3 loads (held), nothing it took is released (h1 and h2 are not asked anything: the request
    // to h3 went out with theirs, had there been any): every expert keeps both loaded hosts.
    expect(toOld).toEqual([]);
    for (const h of ready) expect(h.stats().hosted.length).toBe(all);
    expect(router.stats().experts.every((x) => x.readyOn.length === 2)).toBe(true);
    held.open();
    // Then each moved expert leaves the host the placement took it from, and only it.
    const settled = () =>
      router.stats().experts.every((x) => [...x.readyOn].sort().join() === [...x.placedOn].sort().join());
    await until(settled, "the old hosts to release the moved experts");
    expect(late.stats().hosted.length).toBe(moved.length);
    expect(ready.reduce((n, h) => n + h.stats().hosted.length, 0)).toBe(2 * all - moved.length);
  });
});
