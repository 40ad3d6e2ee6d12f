import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ExpertLink, MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import type { HostRunner } from "../../../src/core/experts/host/types.ts";
import type { ModelSource, RunOutput } from "../../../src/core/experts/models/index.ts";
import type { ManifestModel } from "../../../src/core/protocol/manifest.ts";
import type { XpMessage } from "../../../src/core/protocol/experts.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { constantBombModel, slowChainModel } from "./hostile-models.ts";
import { OrtChildRunner } from "./ort-child-runner.ts";
import { buildTinyMoe, randomInputs, sha256 } from "./router-fixtures.ts";

// A modified client against an expert host (issue 10, item 9): models that are not the site's refused
// unless the host's person enabled them; the 2^28 / 2^30 ConstantOfShape bombs refused before loading,
// quickly, with model_over_budget, counted, and the host still serves; a slow-but-small model stopped by
// the run time limit (its runner's process killed, the model dropped); one requester flooding the host
// delays another by at most the run in progress.

const tiny = buildTinyMoe({ experts: 2 });
const dir = mkdtempSync(join(tmpdir(), "xp-hostile-"));
const entry: ManifestModel = (() => {
  const bytes = tiny.expertModels[0]!;
  writeFileSync(join(dir, "expert-0-fp32.onnx"), bytes);
  return {
    name: "expert-0",
    role: "expert",
    expert: 0,
    variant: "fp32",
    file: "expert-0-fp32.onnx",
    sha256: sha256(bytes),
    bytes: bytes.length,
    inputs: [{ name: "pixels", type: "float32", shape: ["N", tiny.inputCols] }],
    outputs: [{ name: "logits", type: "float32", shape: ["N", 10] }],
    providers: ["wasm"],
  };
})();
const resolve = (sha: string, file: string): ModelSource | undefined =>
  sha === entry.sha256 && file === entry.file ? { kind: "manifest", entry, url: join(dir, file) } : undefined;

/** What the host sends this link, and a way to await one. A `hosting` message that arrives while a
 *  host-request is unanswered is the host announcing a model it just loaded: it is left out. */
function inbox(link: ExpertLink, log?: string[], name?: string) {
  const got: XpMessage[] = [];
  const waiters: (() => void)[] = [];
  const outstanding = new Set<string>();
  const send = link.send.bind(link);
  link.send = (to, message) => {
    if (message.kind === "host-request") outstanding.add(message.requestId);
    return send(to, message);
  };
  link.onMessage((_from, m) => {
    if (m.kind === "hosting" && m.requestId !== null) outstanding.delete(m.requestId);
    if (m.kind === "hosting" && m.requestId === null && outstanding.size > 0) return;
    got.push(m);
    if (log && name && (m.kind === "infer-result" || m.kind === "infer-error")) log.push(`${name}:${m.id}`);
    for (const w of waiters.splice(0)) w();
  });
  return async <K extends XpMessage["kind"]>(
    kind: K,
    id?: string,
  ): Promise<Extract<XpMessage, { kind: K }>> => {
    for (;;) {
      const i = got.findIndex((m) => m.kind === kind && (id === undefined || ("id" in m && m.id === id)));
      if (i >= 0) return got.splice(i, 1)[0] as Extract<XpMessage, { kind: K }>;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
}

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function setup(options: Partial<ConstructorParameters<typeof ExpertHost>[0]> = {}) {
  const hub = new MemoryExpertHub();
  const host = new ExpertHost({
    link: hub.link("host"),
    runner: new OrtNodeRunner(dir),
    resolveManifest: resolve,
    ...options,
  });
  closers.push(() => host.close());
  return { hub, host };
}

async function sendBlob(link: ExpertLink, requestId: string, bytes: Uint8Array, label: string) {
  await link.sendModelBytes("host", bytes);
  await link.send("host", {
    kind: "host-request",
    requestId,
    models: [
      { source: "manifest", sha256: entry.sha256, file: entry.file },
      { source: "blob", sha256: sha256(bytes), bytes: bytes.byteLength, label },
    ],
  });
}

async function classifyStillServed(link: ExpertLink, next: ReturnType<typeof inbox>, id: string) {
  const x = randomInputs(3, tiny.inputCols, 9);
  await link.send("host", {
    kind: "infer-request",
    id,
    model: entry.sha256,
    rows: 3,
    cols: tiny.inputCols,
    data: x,
  });
  const result = await next("infer-result", id);
  expect(result.rows).toBe(3);
}

describe("expert host against a hostile requester", () => {
  it("refuses a model that is not the site's unless enabled; then refuses the 2^28 and 2^30 bombs before loading", async () => {
    const { hub, host } = setup();
    const link = hub.link("attacker");
    const next = inbox(link);
    const bomb28 = constantBombModel(28);

    await sendBlob(link, "h1", bomb28, "bomb.onnx");
    const off = await next("hosting");
    expect(off.hosted).toEqual([entry.sha256]);
    expect(off.failed).toEqual([
      expect.objectContaining({ sha256: sha256(bomb28), code: "not_in_manifest" }),
    ]);
    expect(off.failed[0]!.message).toMatch(/has not enabled hosting other models/);

    host.setAllowNonManifest(true);
    for (const [i, log2] of [28, 30].entries()) {
      const bomb = constantBombModel(log2);
      const started = performance.now();
      await sendBlob(link, `b${i}`, bomb, `bomb-${log2}.onnx`);
      const hosting = await next("hosting", undefined);
      const ms = performance.now() - started;
      console.log(
        `2^${log2} bomb (${bomb.byteLength} bytes) refused by the host in ${ms.toFixed(1)} ms: ${hosting.failed[0]?.message}`,
      );
      expect(hosting.failed).toEqual([
        expect.objectContaining({ sha256: sha256(bomb), code: "model_over_budget" }),
      ]);
      expect(ms).toBeLessThan(1_000); // onnxruntime took 6.9 s and 2.1 GB on the 2^28 one
    }
    expect(host.stats().loadFailuresByCode).toEqual({ not_in_manifest: 1, model_over_budget: 2 });
    await classifyStillServed(link, next, "after");
  });

  it("hosts its own tab's upload without the switch (the loopback: its person's model), still budget-checked", async () => {
    const hub = new MemoryExpertHub();
    const own = hub.link("host");
    const host = new ExpertHost({ link: own, runner: new OrtNodeRunner(dir), resolveManifest: resolve });
    closers.push(() => host.close());
    const next = inbox(own);
    const small = slowChainModel(2, 8);
    await sendBlob(own, "own", small, "mine.onnx");
    expect((await next("hosting")).hosted).toContain(sha256(small));
    await sendBlob(own, "bomb", constantBombModel(28), "bomb.onnx");
    expect((await next("hosting")).failed.map((f) => f.code)).toEqual(["model_over_budget"]);
    expect(host.stats().allowNonManifest).toBe(false);
  });

  it("stops a slow-but-small model at the run time limit: its process killed, the model dropped, the host still serves", async () => {
    const width = 256;
    const slow = slowChainModel(400, width);
    const rows = 1024;
    // The limit is set from this machine's own speed, so the run is forced past it whatever the load: 64
    // rows measured here, the request then carries 16× as many and the limit is 4× the 64-row time.
    const probe = new OrtNodeRunner(dir);
    const loaded = await probe.load({ kind: "bytes", sha256: sha256(slow), bytes: slow, label: "probe" });
    await probe.run(loaded.sha256, new Float32Array(8 * width).fill(0.5), 8); // warm-up
    const probeMs = (await probe.run(loaded.sha256, new Float32Array(64 * width).fill(0.5), 64)).ms;
    await probe.unload(loaded.sha256);
    const runTimeoutMs = Math.max(100, Math.round(4 * probeMs));
    const isolated: OrtChildRunner[] = [];
    const { hub, host } = setup({
      allowNonManifest: true,
      runTimeoutMs,
      isolatedRunner: () => {
        const r = new OrtChildRunner(dir);
        isolated.push(r);
        return r;
      },
    });
    closers.push(() => isolated.forEach((r) => r.dispose()));
    const link = hub.link("req");
    const next = inbox(link);
    await sendBlob(link, "h1", slow, "slow.onnx");
    const hosting = await next("hosting");
    expect(hosting.failed).toEqual([]);
    expect(hosting.hosted).toContain(sha256(slow));
    expect(isolated).toHaveLength(1);

    // 1,024 rows × 400 MatMuls of 256 × 256: ~27 GFLOP, ~16× the probe, against a limit of 4× the probe.
    const started = performance.now();
    await link.send("host", {
      kind: "infer-request",
      id: "slow",
      model: sha256(slow),
      rows,
      cols: width,
      data: new Float32Array(rows * width).fill(0.5),
    });
    const error = await next("infer-error", "slow");
    const ms = performance.now() - started;
    expect(error.code).toBe("timeout");
    expect(error.message).toContain(`longer than this host's limit of ${runTimeoutMs} ms`);
    expect(ms).toBeLessThan(runTimeoutMs + 4_000);
    await isolated[0]!.exited();
    expect(isolated[0]!.killed).toBe(true);
    const announced = await next("hosting");
    expect(announced.hosted).toEqual([entry.sha256]);
    expect(host.stats()).toMatchObject({ errorsSent: { timeout: 1 } });
    await classifyStillServed(link, next, "after");
  });

  it("one requester flooding 100 requests delays another by at most the run in progress", async () => {
    // Runs wait at a gate the test opens (around the real runner), so the queue is full when B arrives and
    // the order of runs is the queue's alone, not the machine's speed. Each run is told apart by its input.
    const real = new OrtNodeRunner(dir);
    const runs: { readonly first: number; readonly open: () => void }[] = [];
    let runStarted: () => void = () => undefined;
    const gated: HostRunner = {
      provider: "cpu",
      load: (s) => real.load(s),
      unload: (s) => real.unload(s),
      run: async (sha, input, rows): Promise<RunOutput> => {
        await new Promise<void>((open) => {
          runs.push({ first: input[0]!, open });
          runStarted();
        });
        return real.run(sha, input, rows);
      },
    };
    const nextRun = () => new Promise<void>((r) => (runStarted = r));
    const { hub, host } = setup({ runner: gated });
    const a = hub.link("A");
    const b = hub.link("B");
    const nextA = inbox(a);
    const nextB = inbox(b);
    for (const [link, next] of [
      [a, nextA],
      [b, nextB],
    ] as const) {
      await link.send("host", {
        kind: "host-request",
        requestId: "h",
        models: [{ source: "manifest", sha256: entry.sha256, file: entry.file }],
      });
      await next("hosting");
    }
    const request = (id: string, value: number) =>
      ({
        kind: "infer-request",
        id,
        model: entry.sha256,
        rows: 2,
        cols: tiny.inputCols,
        data: new Float32Array(2 * tiny.inputCols).fill(value),
      }) as const;
    const first = nextRun();
    for (let i = 0; i < 100; i++) await a.send("host", request(`a${i}`, 0.25));
    await first; // a0 runs (held at the gate), a1..a16 wait: A's cap is 16; a17..a99 are refused
    for (let i = 17; i < 100; i++) expect((await nextA("infer-error", `a${i}`)).code).toBe("busy");
    expect(host.stats()).toMatchObject({
      queuedRequests: 16,
      busyRefusals: { requesterCap: 83, hostCap: 0 },
    });

    await b.send("host", request("b0", 0.75));
    // Deliveries are asynchronous (the hub's timers): wait until b0 is queued behind A's 16.
    while (host.stats().queuedRequests < 17) await new Promise((r) => setTimeout(r, 1));
    const second = nextRun();
    runs[0]!.open(); // a0 ends
    await second;
    expect(runs.map((r) => r.first)).toEqual([0.25, 0.75]); // B's run is the very next one
    const third = nextRun();
    runs[1]!.open();
    expect((await nextB("infer-result", "b0")).rows).toBe(2);
    await third;
    // The rest of A's queue is then served, all 16.
    for (let i = 2; i <= 17; i++) {
      const more = i < 17 ? nextRun() : Promise.resolve();
      runs[i]!.open();
      await more;
    }
    for (let i = 1; i <= 16; i++) await nextA("infer-result", `a${i}`);
    expect(host.stats()).toMatchObject({ batchesServed: 18, queuedRequests: 0 });
  });
});
