import { afterEach, describe, expect, it } from "vitest";
import { meshExpertLink } from "../../../src/core/experts/link/index.ts";
import { ExpertHost } from "../../../src/core/experts/host/index.ts";
import { ExpertRouter } from "../../../src/core/experts/router/index.ts";
import type { XpMessage } from "../../../src/core/protocol/experts.ts";
import { generateKeyPair, identityFromKeyPair } from "../../../src/core/identity/identity.ts";
import { Mesh } from "../../../src/core/net/mesh.ts";
import { OrtNodeRunner } from "../../../src/node/ort-node-runner.ts";
import { MemoryHub, MemoryTransport } from "../net/memory-transport.ts";
import {
  buildTinyMoe,
  bytesSource,
  differingRows,
  MODELS_DIR,
  randomInputs,
  seeded,
  wholeGraphLogits,
} from "./router-fixtures.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function meshPair() {
  const hub = new MemoryHub();
  const ids = await Promise.all(
    [generateKeyPair(), generateKeyPair()].map(async (k) => identityFromKeyPair(await k)),
  );
  const meshes = ids.map(
    (identity) =>
      new Mesh({ identity, transport: new MemoryTransport(hub, identity.peerId), enableDebug: true }),
  );
  for (const m of meshes) cleanups.push(() => m.close());
  await Promise.all(meshes.map((m) => m.start()));
  const infos = ids.map((i) => ({ peerId: i.peerId, publicKey: i.publicKey, joinedAtMs: 1 }));
  for (const m of meshes) m.updatePeers(infos);
  await Promise.all([
    meshes[0]!.waitForPeer(ids[1]!.peerId, 5000),
    meshes[1]!.waitForPeer(ids[0]!.peerId, 5000),
  ]);
  return { requester: meshes[0]!, volunteer: meshes[1]! };
}

describe("xp over the real mesh", () => {
  it("a requester whose own tab (loopback) and one remote peer host the experts: exact, models sent as blobs", async () => {
    const { requester, volunteer } = await meshPair();
    const tiny = buildTinyMoe({ experts: 4, seed: 2 });
    const models = {
      gate: bytesSource(tiny.gate, "gate"),
      experts: tiny.expertModels.map((b, i) => bytesSource(b, `e${i}`)),
    };
    const reqLink = meshExpertLink(requester);
    const volLink = meshExpertLink(volunteer);
    const hosts = [
      new ExpertHost({
        link: reqLink,
        runner: new OrtNodeRunner(MODELS_DIR),
        resolveManifest: () => undefined,
        allowNonManifest: true, // the tiny test models are no site manifest
      }),
      new ExpertHost({
        link: volLink,
        runner: new OrtNodeRunner(MODELS_DIR),
        resolveManifest: () => undefined,
        allowNonManifest: true, // the tiny test models are no site manifest
      }),
    ];
    const router = new ExpertRouter({
      link: reqLink,
      local: new OrtNodeRunner(MODELS_DIR),
      ...models,
      random: seeded(1),
    });
    cleanups.push(
      () => router.close(),
      ...hosts.map((h) => () => h.close()),
      () => reqLink.close(),
      () => volLink.close(),
    );
    router.setVolunteers([requester.peerId, volunteer.peerId]);
    await router.waitForHosts(10_000);
    const x = randomInputs(600, tiny.inputCols, 3);
    const result = await router.classify(x, 600);
    const reference = await wholeGraphLogits(
      new OrtNodeRunner(MODELS_DIR),
      bytesSource(tiny.moe, "moe"),
      x,
      600,
      tiny.inputCols,
    );
    expect(differingRows(result.logits, reference)).toBe(0);
    expect(result.rowsBySource[volunteer.peerId]).toBeGreaterThan(0);
    expect(result.rowsBySource[requester.peerId]).toBeGreaterThan(0);
    expect(volunteer.counters.blobsReceived).toBe(4);

    // The volunteer's tab goes away: the next job is answered by the requester's own host and itself.
    volunteer.close();
    await new Promise((r) => setTimeout(r, 50));
    const again = await router.classify(x, 600);
    expect(differingRows(again.logits, reference)).toBe(0);
    expect(again.rowsBySource[volunteer.peerId]).toBeUndefined();
  });

  it("malformed xp frames are dropped and counted by the mesh; valid ones still arrive", async () => {
    const { requester, volunteer } = await meshPair();
    const link = meshExpertLink(volunteer);
    cleanups.push(() => link.close());
    const got: XpMessage[] = [];
    link.onMessage((_from, m) => got.push(m));
    const rejected: string[] = [];
    link.onRejected((_f, code) => rejected.push(code));
    const sha = "ab".repeat(32);
    await requester.debugSendRaw(
      volunteer.peerId,
      { v: 1, type: "xp", xv: 1, body: { kind: "infer-request", id: "r", model: sha, rows: 2, cols: 3 } },
      new Uint8Array(5),
    );
    await requester.debugSendRaw(volunteer.peerId, {
      v: 1,
      type: "xp",
      xv: 1,
      body: { kind: "infer-request", id: "r", model: sha, rows: 99999, cols: 3 },
    });
    await requester.debugSendRaw(volunteer.peerId, { v: 1, type: "xp", xv: 1, body: { kind: "hosting" } });
    const nan = new Float32Array([1, Number.NaN]);
    await requester.debugSendRaw(
      volunteer.peerId,
      { v: 1, type: "xp", xv: 1, body: { kind: "infer-result", id: "r", rows: 1, cols: 2, ms: 0 } },
      new Uint8Array(nan.buffer),
    );
    await requester.send(volunteer.peerId, {
      type: "xp",
      xv: 1,
      body: { kind: "infer-error", id: "ok", code: "busy", message: "" },
    });
    const start = Date.now();
    while (got.length === 0 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([{ kind: "infer-error", id: "ok", code: "busy", message: "" }]);
    expect(volunteer.counters.invalidMessages).toBe(3);
    expect(rejected).toEqual(["non_finite"]);
  });
});
