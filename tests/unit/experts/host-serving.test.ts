import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ExpertLink, MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost, type HostRunner } from "../../../src/core/experts/host/index.ts";
import type { ManifestModel } from "../../../src/core/protocol/manifest.ts";
import type { ModelSource } from "../../../src/core/experts/models/index.ts";
import type { XpHosting, XpMessage } from "../../../src/core/protocol/experts.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { buildTinyMoe, randomInputs, sha256 } from "./router-fixtures.ts";

const tiny = buildTinyMoe({ experts: 3 });
const dir = mkdtempSync(join(tmpdir(), "xp-host-"));
const entries: ManifestModel[] = tiny.expertModels.map((bytes, i) => {
  const file = `expert-${i}-fp32.onnx`;
  writeFileSync(join(dir, file), bytes);
  return {
    name: `expert-${i}`,
    role: "expert",
    expert: i,
    variant: "fp32",
    file,
    sha256: sha256(bytes),
    bytes: bytes.length,
    inputs: [{ name: "pixels", type: "float32", shape: ["N", tiny.inputCols] }],
    outputs: [{ name: "logits", type: "float32", shape: ["N", 10] }],
    providers: ["wasm"],
  };
});
const resolve = (sha: string, file: string): ModelSource | undefined => {
  const entry = entries.find((m) => m.sha256 === sha && m.file === file);
  return entry ? { kind: "manifest", entry, url: join(dir, entry.file) } : undefined;
};

/** A requester's end of the link: every message it receives, and a way to await one. A `hosting` message
 *  that arrives while a host-request is unanswered is the host announcing a model it just loaded: it goes
 *  to `progress`, not the inbox. */
function requester(link: ExpertLink) {
  const inbox: XpMessage[] = [];
  const progress: XpHosting[] = [];
  const outstanding = new Set<string>();
  const waiters: (() => void)[] = [];
  const send = link.send.bind(link);
  link.send = (to, message) => {
    if (message.kind === "host-request") outstanding.add(message.requestId);
    return send(to, message);
  };
  link.onMessage((_from, m) => {
    if (m.kind === "hosting" && m.requestId === null && outstanding.size > 0) progress.push(m);
    else inbox.push(m);
    if (m.kind === "hosting" && m.requestId !== null) outstanding.delete(m.requestId);
    for (const w of waiters.splice(0)) w();
  });
  const next = async <K extends XpMessage["kind"]>(
    kind: K,
    id?: string,
  ): Promise<Extract<XpMessage, { kind: K }>> => {
    for (;;) {
      const i = inbox.findIndex((m) => m.kind === kind && (id === undefined || ("id" in m && m.id === id)));
      if (i >= 0) return inbox.splice(i, 1)[0] as Extract<XpMessage, { kind: K }>;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { inbox, progress, next };
}

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Fault injection: a runner whose runs wait while held, so that a queue fills the same way however fast
 *  the machine runs the model. */
function heldRunner(inner: HostRunner) {
  let gate: Promise<void> | null = null;
  let open = (): void => {};
  const runner: HostRunner = {
    get provider() {
      return inner.provider;
    },
    load: (model) => inner.load(model),
    run: async (sha256, input, rows) => {
      if (gate) await gate;
      return inner.run(sha256, input, rows);
    },
    unload: (sha256) => inner.unload(sha256),
  };
  return {
    runner,
    hold: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    release: () => {
      gate = null;
      open();
    },
  };
}

function setup(options: Partial<ConstructorParameters<typeof ExpertHost>[0]> = {}) {
  const hub = new MemoryExpertHub();
  const runner = new OrtNodeRunner(dir);
  const host = new ExpertHost({ link: hub.link("host"), runner, resolveManifest: resolve, ...options });
  closers.push(() => host.close());
  const link = hub.link("req");
  return { hub, host, runner, link, req: requester(link) };
}

describe("expert host", () => {
  it("hosts manifest models, serves infer-requests in arrival order with the runner's exact outputs, counts them", async () => {
    const { host, runner, link, req } = setup();
    await link.send("host", {
      kind: "host-request",
      requestId: "h1",
      models: entries
        .slice(0, 2)
        .map((m) => ({ source: "manifest" as const, sha256: m.sha256, file: m.file })),
    });
    const hosting = await req.next("hosting");
    expect(hosting).toMatchObject({ requestId: "h1", provider: "cpu", failed: [], paused: false });
    expect([...hosting.hosted].sort()).toEqual([entries[0]!.sha256, entries[1]!.sha256].sort());

    const x = randomInputs(20, tiny.inputCols, 5);
    const ids = ["a", "b", "c", "d"];
    for (const [i, id] of ids.entries()) {
      await link.send("host", {
        kind: "infer-request",
        id,
        model: entries[i % 2]!.sha256,
        rows: 5,
        cols: tiny.inputCols,
        data: x.subarray(i * 5 * tiny.inputCols, (i + 1) * 5 * tiny.inputCols),
      });
    }
    for (const [i, id] of ids.entries()) {
      const result = await req.next("infer-result", id);
      const direct = await runner.run(
        entries[i % 2]!.sha256,
        x.subarray(i * 5 * tiny.inputCols, (i + 1) * 5 * tiny.inputCols),
        5,
      );
      expect(result.data).toEqual(direct.outputs["logits"]!.data);
    }
    expect(host.stats()).toMatchObject({
      batchesServed: 4,
      rowsServed: 20,
      queuedRequests: 0,
      errorsSent: {},
    });
  });

  it("answers results in arrival order, each equal to a direct run", async () => {
    const { runner, link, req } = setup();
    await link.send("host", {
      kind: "host-request",
      requestId: "h1",
      models: [{ source: "manifest", sha256: entries[0]!.sha256, file: entries[0]!.file }],
    });
    await req.next("hosting");
    const got: string[] = [];
    link.onMessage((_f, m) => {
      if (m.kind === "infer-result") got.push(m.id);
    });
    const x = randomInputs(30, tiny.inputCols, 9);
    for (let i = 0; i < 6; i++) {
      await link.send("host", {
        kind: "infer-request",
        id: `r${i}`,
        model: entries[0]!.sha256,
        rows: 5,
        cols: tiny.inputCols,
        data: x.subarray(i * 5 * tiny.inputCols, (i + 1) * 5 * tiny.inputCols),
      });
    }
    const last = await req.next("infer-result", "r5");
    expect(got).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"]);
    const direct = await runner.run(entries[0]!.sha256, x.subarray(25 * tiny.inputCols), 5);
    expect(last.data).toEqual(direct.outputs["logits"]!.data);
    expect(last).toMatchObject({ rows: 5, cols: 10 });
  });

  it("gives specific codes: model_missing, bad_input, busy, paused; and not_in_manifest for an unknown file", async () => {
    const held = heldRunner(new OrtNodeRunner(dir));
    const { host, link, req } = setup({ maxQueuedRequests: 1, runner: held.runner });
    await link.send("host", {
      kind: "host-request",
      requestId: "h1",
      models: [
        { source: "manifest", sha256: entries[0]!.sha256, file: entries[0]!.file },
        { source: "manifest", sha256: "0".repeat(64), file: "expert-9-fp32.onnx" },
      ],
    });
    const hosting = await req.next("hosting");
    expect(hosting.hosted).toEqual([entries[0]!.sha256]);
    expect(hosting.failed).toEqual([expect.objectContaining({ code: "not_in_manifest" })]);
    const cols = tiny.inputCols;
    const x = new Float32Array(4 * cols);
    await link.send("host", {
      kind: "infer-request",
      id: "m",
      model: entries[2]!.sha256,
      rows: 4,
      cols,
      data: x,
    });
    expect(await req.next("infer-error", "m")).toMatchObject({ code: "model_missing" });
    await link.send("host", {
      kind: "infer-request",
      id: "w",
      model: entries[0]!.sha256,
      rows: 2,
      cols: cols * 2,
      data: x,
    });
    expect(await req.next("infer-error", "w")).toMatchObject({ code: "bad_input" });
    // Queue of one: the first runs (held until the others arrived), the second waits, the rest are refused.
    held.hold();
    for (const id of ["q1", "q2", "q3", "q4"]) {
      await link.send("host", {
        kind: "infer-request",
        id,
        model: entries[0]!.sha256,
        rows: 4,
        cols,
        data: x,
      });
    }
    const busy = [await req.next("infer-error", "q3"), await req.next("infer-error", "q4")];
    expect(busy.map((m) => m.code)).toEqual(["busy", "busy"]);
    held.release();
    await req.next("infer-result", "q2");
    host.pause();
    const announced = await req.next("hosting");
    expect(announced).toMatchObject({ requestId: null, paused: true });
    await link.send("host", {
      kind: "infer-request",
      id: "p",
      model: entries[0]!.sha256,
      rows: 4,
      cols,
      data: x,
    });
    expect(await req.next("infer-error", "p")).toMatchObject({ code: "paused" });
    host.resume();
    expect(await req.next("hosting")).toMatchObject({ paused: false });
    expect(host.stats().errorsSent).toEqual({ model_missing: 1, bad_input: 1, busy: 2, paused: 1 });
  });

  it("hosts a model sent as a blob (bytes before or after the request), refuses corrupt bytes, and never gets bytes it was not sent", async () => {
    const { host, link, req } = setup({ blobWaitMs: 300, allowNonManifest: true });
    const bytes = tiny.expertModels[1]!;
    await link.sendModelBytes("host", bytes);
    await new Promise((r) => setTimeout(r, 5));
    const garbage = new Uint8Array(256).fill(7);
    const request = (id: string, models: { sha256: string; bytes: number }[]) =>
      link.send("host", {
        kind: "host-request",
        requestId: id,
        models: models.map((m) => ({ source: "blob" as const, label: "uploaded", ...m })),
      });
    await request("h1", [
      { sha256: sha256(bytes), bytes: bytes.length },
      { sha256: sha256(garbage), bytes: garbage.length },
      { sha256: "e".repeat(64), bytes: 10 },
    ]);
    await link.sendModelBytes("host", garbage); // after the request: still picked up
    const hosting: XpHosting = await req.next("hosting");
    expect(hosting.hosted).toEqual([sha256(bytes)]);
    const codes = Object.fromEntries(hosting.failed.map((f) => [f.sha256.slice(0, 4), f.code]));
    expect(codes).toEqual({ [sha256(garbage).slice(0, 4)]: "corrupt_model", eeee: "blob_missing" });
    expect(host.stats().hosted).toEqual([sha256(bytes)]);
  });

  it("forgets held model bytes once they are older than blobWaitMs, on its injected clock", async () => {
    let now = 0;
    const { host, link, req } = setup({ blobWaitMs: 50, nowMs: () => now, allowNonManifest: true });
    const [stale, fresh] = [tiny.expertModels[0]!, tiny.expertModels[2]!];
    await link.sendModelBytes("host", stale);
    await new Promise((r) => setTimeout(r, 5));
    now = 100; // the clock says the stale bytes are old: the next arrival drops them
    await link.sendModelBytes("host", fresh);
    await new Promise((r) => setTimeout(r, 5));
    await link.send("host", {
      kind: "host-request",
      requestId: "h1",
      models: [stale, fresh].map((bytes) => ({
        source: "blob" as const,
        label: "uploaded",
        sha256: sha256(bytes),
        bytes: bytes.length,
      })),
    });
    const hosting: XpHosting = await req.next("hosting");
    expect(hosting.hosted).toEqual([sha256(fresh)]);
    expect(hosting.failed).toMatchObject([{ sha256: sha256(stale), code: "blob_missing" }]);
    expect(host.stats().hosted).toEqual([sha256(fresh)]);
  });

  it("releases a requester's models when it asks for none or its link closes, and drops its queued work", async () => {
    const { hub, host, link, req } = setup();
    const other = hub.link("other");
    const otherReq = requester(other);
    const m0 = { source: "manifest" as const, sha256: entries[0]!.sha256, file: entries[0]!.file };
    const m1 = { source: "manifest" as const, sha256: entries[1]!.sha256, file: entries[1]!.file };
    await link.send("host", { kind: "host-request", requestId: "h1", models: [m0, m1] });
    await req.next("hosting");
    await other.send("host", { kind: "host-request", requestId: "o1", models: [m1] });
    await otherReq.next("hosting");
    await link.send("host", { kind: "host-request", requestId: "h2", models: [m0] });
    await req.next("hosting");
    expect([...host.stats().hosted].sort()).toEqual([m0.sha256, m1.sha256].sort()); // m1 still claimed by other
    hub.kill("other");
    await new Promise((r) => setTimeout(r, 20));
    expect(host.stats().hosted).toEqual([m0.sha256]);
    expect(host.stats().requesters).toBe(1);
    await link.send("host", { kind: "host-request", requestId: "h3", models: [] });
    expect(await req.next("hosting")).toMatchObject({ hosted: [] });
    expect(host.stats()).toMatchObject({ hosted: [], requesters: 0 });
  });
  it("logs every batch it ran, newest first: requester, the manifest's model name, rows, time; a failed run as failed, a refusal not at all", async () => {
    let now = 1_000;
    const real = new OrtNodeRunner(dir);
    // Fault injection: runs of expert-2 fail (a crashed session). Every run takes 7 ms on the test's clock.
    const failing: HostRunner = {
      provider: real.provider,
      load: (source) => real.load(source),
      unload: (sha) => real.unload(sha),
      run: (sha, input, rows) => {
        now += 7;
        if (sha === entries[2]!.sha256) return Promise.reject(new Error("session crashed (fault injection)"));
        return real.run(sha, input, rows);
      },
    };
    const { hub, host, link, req } = setup({ runner: failing, nowMs: () => now });
    const other = hub.link("other");
    const otherReq = requester(other);
    const manifest = (i: number) => ({
      source: "manifest" as const,
      sha256: entries[i]!.sha256,
      file: entries[i]!.file,
    });
    await link.send("host", { kind: "host-request", requestId: "h1", models: [0, 2].map(manifest) });
    await req.next("hosting");
    await other.send("host", { kind: "host-request", requestId: "o1", models: [manifest(1)] });
    await otherReq.next("hosting");
    const cols = tiny.inputCols;
    const send = (from: ExpertLink, id: string, model: string, rows: number) =>
      from.send("host", {
        kind: "infer-request",
        id,
        model,
        rows,
        cols,
        data: new Float32Array(rows * cols),
      });
    await send(link, "a", entries[0]!.sha256, 3);
    await send(link, "b", entries[2]!.sha256, 2);
    await send(link, "m", "f".repeat(64), 1); // not hosted here: refused, never run
    await send(other, "o", entries[1]!.sha256, 4);
    await req.next("infer-result", "a");
    expect(await req.next("infer-error", "b")).toMatchObject({ code: "runtime_failed" });
    expect(await req.next("infer-error", "m")).toMatchObject({ code: "model_missing" });
    await otherReq.next("infer-result", "o");

    const log = host.stats().log;
    const times = log.map((e) => e.atMs);
    expect(times).toEqual([...times].sort((x, y) => y - x)); // newest first (the run order is the queue's)
    expect(new Set(times).size).toBe(3);
    const byId = [...log].sort((x, y) => x.requestId.localeCompare(y.requestId));
    expect(
      byId.map(({ requesterId, requestId, modelLabel, rows, ms, outcome }) => ({
        requesterId,
        requestId,
        modelLabel,
        rows,
        ms,
        outcome,
      })),
    ).toEqual([
      { requesterId: "req", requestId: "a", modelLabel: "expert-0 (fp32)", rows: 3, ms: 7, outcome: "sent" },
      {
        requesterId: "req",
        requestId: "b",
        modelLabel: "expert-2 (fp32)",
        rows: 2,
        ms: 7,
        outcome: "failed",
      },
      {
        requesterId: "other",
        requestId: "o",
        modelLabel: "expert-1 (fp32)",
        rows: 4,
        ms: 7,
        outcome: "sent",
      },
    ]);
    expect(byId.map((e) => e.model)).toEqual([entries[0]!.sha256, entries[2]!.sha256, entries[1]!.sha256]);

    // The requesters' batch-verdicts, over the link: each applies only to its own sender's batch.
    await other.send("host", { kind: "batch-verdict", id: "a", verdict: "rejected" }); // not its batch
    await link.send("host", { kind: "batch-verdict", id: "a", verdict: "accepted" });
    await other.send("host", { kind: "batch-verdict", id: "o", verdict: "rejected" });
    await vi.waitFor(() =>
      expect(
        host.stats().verdictsIgnored +
          host.stats().log.filter((e) => e.outcome !== "sent" && e.outcome !== "failed").length,
      ).toBe(3),
    );
    const judged = Object.fromEntries(host.stats().log.map((e) => [e.requestId, e.outcome]));
    expect(judged).toEqual({ a: "accepted", b: "failed", o: "rejected" });
    expect(host.stats().verdictsIgnored).toBe(1);
  });
});
