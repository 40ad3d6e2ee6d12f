import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExpertError } from "../../../src/core/experts/models/index.ts";
import { MemoryExpertHub, type ExpertLink } from "../../../src/core/experts/link/index.ts";
import type { XpHosting, XpMessage } from "../../../src/core/protocol/experts.ts";
import { startNodeExpertHost, type NodeExpertHost } from "../../../src/node/expert-host.ts";
import { FileModelCache } from "../../../src/node/model-file-cache.ts";
import {
  entryFor,
  int8Expert,
  pixels,
  startModelServer,
  type ModelServer,
} from "../experts/model-fixtures.ts";

// `open-swarm volunteer --experts`'s host (node/expert-host.ts) against a requester on an in-process link
// (MemoryExpertHub: the wire's encoding and validation, no WebRTC): the site's manifest and model files come
// from a real HTTP server, as a tab fetches them; bytes that differ from the manifest's digest are refused
// and never cached; verified bytes are kept on disk, so a restarted host does not download them again.

const good = int8Expert(3);
const goodEntry = entryFor("expert-0-int8.onnx", good, "int8");
const tampered = good.slice();
tampered[200] = tampered[200]! ^ 0xff;
const liedEntry = entryFor("expert-1-int8.onnx", int8Expert(4), "int8", { name: "expert-1", expert: 1 });
const manifest = {
  version: 1,
  dataset: "fashion-mnist",
  inputSize: 784,
  classes: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
  experts: 2,
  topK: 1,
  hiddenUnits: 8,
  models: [goodEntry, liedEntry],
  accuracy: { fp32: 0.9, int8: 0.9, qdq: 0.9, testImages: 10 },
  training: { seed: 1 },
};
/** The fake mesh's part: no link ever opens (the requester here is on the memory hub). */
const noLinks = { on: () => () => undefined };

let server: ModelServer;
let dir: string;
beforeAll(async () => {
  server = await startModelServer();
  server.files.set("/models/manifest.json", new TextEncoder().encode(JSON.stringify(manifest)));
  server.files.set(`/models/${goodEntry.file}`, good);
  // The server (or the network) hands out other bytes than its own manifest names.
  server.files.set(`/models/${liedEntry.file}`, good);
  dir = mkdtempSync(path.join(tmpdir(), "node-expert-host-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Node host on the hub as "node", and a requester link with an inbox. */
async function setup(hub: MemoryExpertHub, cacheDir: string) {
  const host = await startNodeExpertHost({
    server: server.baseUrl,
    mesh: noLinks,
    link: hub.link("node"),
    modelCacheDir: cacheDir,
  });
  const requester = hub.link("requester");
  return { host, requester, next: inbox(requester) };
}

function inbox(link: ExpertLink) {
  const got: XpMessage[] = [];
  const waiters: (() => void)[] = [];
  link.onMessage((_from, m) => {
    got.push(m);
    for (const w of waiters.splice(0)) w();
  });
  return async (match: (m: XpMessage) => boolean): Promise<XpMessage> => {
    for (;;) {
      const i = got.findIndex(match);
      if (i >= 0) return got.splice(i, 1)[0]!;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
}

async function hostRequest(requester: ExpertLink, next: ReturnType<typeof inbox>, requestId: string) {
  await requester.send("node", {
    kind: "host-request",
    requestId,
    models: [goodEntry, liedEntry].map((e) => ({ source: "manifest", sha256: e.sha256, file: e.file })),
  });
  return (await next((m) => m.kind === "hosting" && m.requestId === requestId)) as XpHosting;
}

describe("the Node expert host (open-swarm volunteer --experts)", () => {
  let host: NodeExpertHost;
  afterAll(() => host?.close());

  it("hosts the site's model after checking its digest, refuses other bytes, and serves rows as ORT computes them", async () => {
    const hub = new MemoryExpertHub();
    const started = await setup(hub, dir);
    host = started.host;
    const { requester, next } = started;
    const hosting = await hostRequest(requester, next, "r1");
    expect(hosting.provider).toBe("cpu");
    expect(hosting.hosted).toEqual([goodEntry.sha256]);
    expect(hosting.failed).toEqual([
      expect.objectContaining({ sha256: liedEntry.sha256, code: "digest_mismatch" }),
    ]);
    // Only the verified bytes were kept, owner-only.
    expect(await new FileModelCache(dir).list()).toEqual([goodEntry.sha256]);
    expect(statSync(path.join(dir, goodEntry.sha256)).mode & 0o777).toBe(0o600);

    const x = pixels(3, 7);
    await requester.send("node", {
      kind: "infer-request",
      id: "q1",
      model: goodEntry.sha256,
      rows: 3,
      cols: 784,
      data: x,
    });
    const result = await next((m) => m.kind === "infer-result" && m.id === "q1");
    const session = await ort.InferenceSession.create(good);
    const expected = (await session.run({ pixels: new ort.Tensor("float32", x, [3, 784]) }))["logits"]!
      .data as Float32Array;
    expect(result.kind === "infer-result" && [...result.data]).toEqual([...expected]);
    await session.release();
    expect(host.host.stats().rowsServed).toBe(3);
  });

  it("a restarted host reads verified bytes from its disk cache, and re-downloads a file changed on disk", async () => {
    const path0 = `/models/${goodEntry.file}`;
    const before = server.hits.get(path0) ?? 0;
    const again = await setup(new MemoryExpertHub(), dir);
    expect((await hostRequest(again.requester, again.next, "r2")).hosted).toEqual([goodEntry.sha256]);
    expect(server.hits.get(path0) ?? 0).toBe(before);
    await again.host.close();

    writeFileSync(path.join(dir, goodEntry.sha256), tampered);
    const third = await setup(new MemoryExpertHub(), dir);
    expect((await hostRequest(third.requester, third.next, "r3")).hosted).toEqual([goodEntry.sha256]);
    expect(server.hits.get(path0) ?? 0).toBe(before + 1);
    await third.host.close();
  });

  it("a server without a model manifest: the host does not start, and says why", async () => {
    const bare = await startModelServer();
    const error = await startNodeExpertHost({
      server: bare.baseUrl,
      mesh: noLinks,
      link: new MemoryExpertHub().link("node"),
      modelCacheDir: dir,
    }).catch((e: unknown) => e);
    await bare.close();
    expect(error).toBeInstanceOf(ExpertError);
    expect((error as ExpertError).code).toBe("fetch_failed");
  });
});
