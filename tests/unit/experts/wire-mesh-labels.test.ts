import { afterEach, describe, expect, it } from "vitest";
import { meshExpertLink } from "../../../src/core/experts/link/index.ts";
import { meshJobLink } from "../../../src/core/jobs/job-link.ts";
import { generateKeyPair, identityFromKeyPair } from "../../../src/core/identity/identity.ts";
import { Mesh } from "../../../src/core/net/mesh.ts";
import { MemoryHub, MemoryTransport } from "../net/memory-transport.ts";

// Blobs on one mesh serve two runtimes: job blobs (matrices, results; label "job") land in the job caches,
// expert models (label "xp-model") in expert hosts. Each side must see only its own.

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
  return { a: meshes[0]!, b: meshes[1]! };
}

describe("blob labels keep jobs and experts apart", () => {
  it("job blobs reach the job link only, model blobs the expert link only, others neither", async () => {
    const { a, b } = await meshPair();
    const [jobA, xpA] = [meshJobLink(a), meshExpertLink(a)];
    const [jobB, xpB] = [meshJobLink(b), meshExpertLink(b)];
    cleanups.push(
      () => jobA.close(),
      () => xpA.close(),
      () => jobB.close(),
      () => xpB.close(),
    );
    const jobBlobs: number[] = [];
    const modelBlobs: number[] = [];
    const allBlobs: (string | null)[] = [];
    jobB.onBlob((_from, _sha, bytes) => jobBlobs.push(bytes.length));
    xpB.onModelBytes((_from, _sha, bytes) => modelBlobs.push(bytes.length));
    b.on("blob", (event) => allBlobs.push(event.label));

    await xpA.sendModelBytes(b.peerId, new Uint8Array(1000).fill(1));
    await jobA.sendBlob(b.peerId, new Uint8Array(2000).fill(2));
    await a.sendBlob(b.peerId, new Uint8Array(3000).fill(3), { label: "something-else" });
    await a.sendBlob(b.peerId, new Uint8Array(4000).fill(4));
    await expect.poll(() => allBlobs.length).toBe(4);

    expect(allBlobs).toEqual(["xp-model", "job", "something-else", null]);
    expect(jobBlobs).toEqual([2000]);
    expect(modelBlobs).toEqual([1000]);
  });
});
