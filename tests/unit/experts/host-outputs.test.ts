import { afterEach, describe, expect, it } from "vitest";
import { MemoryExpertHub } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import { splitXpOutputs, type XpMessage } from "../../../src/core/protocol/experts.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { MODELS_DIR, randomInputs } from "./router-fixtures.ts";
import { directOutputs, sameBits, twoOutputModel, TWO_OUT_COLS } from "./router-generic-fixtures.ts";

// The host answers an all-outputs request with every output of the model, and a plain request (what the
// experts send) with the first output only, exactly as before.

const model = twoOutputModel(9);
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe("ExpertHost: every output on request", () => {
  it("all outputs when asked, the first otherwise; both exact", async () => {
    const hub = new MemoryExpertHub();
    const host = new ExpertHost({
      link: hub.link("host"),
      runner: new OrtNodeRunner(MODELS_DIR),
      resolveManifest: () => undefined,
      allowNonManifest: true, // a model of the requester's own
    });
    closers.push(() => host.close());
    const req = hub.link("req");
    const inbox: XpMessage[] = [];
    req.onMessage((_from, m) => inbox.push(m));
    const src = model.source;
    if (src.kind !== "bytes") throw new Error("unreachable");
    await req.sendModelBytes("host", src.bytes);
    await req.send("host", {
      kind: "host-request",
      requestId: "h1",
      models: [{ source: "blob", sha256: src.sha256, bytes: src.bytes.length, label: "two" }],
    });
    await expect.poll(() => inbox.some((m) => m.kind === "hosting")).toBe(true);
    expect(inbox.find((m) => m.kind === "hosting")).toMatchObject({ hosted: [src.sha256], failed: [] });

    const rows = 7;
    const x = randomInputs(rows, TWO_OUT_COLS, 3);
    await req.send("host", {
      kind: "infer-request",
      id: "all",
      model: src.sha256,
      rows,
      cols: TWO_OUT_COLS,
      data: x,
      allOutputs: true,
    });
    await req.send("host", {
      kind: "infer-request",
      id: "first",
      model: src.sha256,
      rows,
      cols: TWO_OUT_COLS,
      data: x,
    });
    await expect.poll(() => inbox.filter((m) => m.kind === "infer-result").length).toBe(2);
    const reference = await directOutputs(src, x, rows);

    const all = inbox.find((m) => m.kind === "infer-result" && m.id === "all") as Extract<
      XpMessage,
      { kind: "infer-result" }
    >;
    expect(all.outputs).toEqual([
      { name: "scores", cols: 5 },
      { name: "energy", cols: 1 },
    ]);
    expect(all.cols).toBe(6);
    const blocks = splitXpOutputs(all);
    expect(sameBits(blocks.get("scores")!.data, reference["scores"]!.data)).toBe(true);
    expect(sameBits(blocks.get("energy")!.data, reference["energy"]!.data)).toBe(true);

    const first = inbox.find((m) => m.kind === "infer-result" && m.id === "first") as Extract<
      XpMessage,
      { kind: "infer-result" }
    >;
    expect(first.outputs).toBeUndefined();
    expect(first.cols).toBe(5);
    expect(sameBits(first.data, reference["scores"]!.data)).toBe(true);
  });
});
