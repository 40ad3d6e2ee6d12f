import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/core/base/digest.ts";
import { signEnvelope, verifyEnvelope } from "../../../src/core/identity/signed-envelope.ts";
import type { Mesh, MeshEvents } from "../../../src/core/net/mesh.ts";
import { MemoryHub } from "./memory-transport.ts";
import { introduce, nextEvent, sortedIdentities, startMesh } from "./mesh-harness.ts";

/** Blobs in the attachment of a signed message (net/signed-blobs.ts), against an honest and a lying sender. */

async function connectedPair() {
  const hub = new MemoryHub();
  const [lowId, highId] = await sortedIdentities(2);
  const low = await startMesh(hub, lowId!);
  const high = await startMesh(hub, highId!);
  introduce([low, lowId!], [high, highId!]);
  await Promise.all([low.waitForPeer(highId!.peerId, 5000), high.waitForPeer(lowId!.peerId, 5000)]);
  return { low, high, lowId: lowId!, highId: highId! };
}

/** Every blob and signed event `mesh` emits, in order. */
function record(mesh: Mesh): (MeshEvents["blob"] | MeshEvents["signed"])[] {
  const seen: (MeshEvents["blob"] | MeshEvents["signed"])[] = [];
  mesh.on("blob", (e) => seen.push(e));
  mesh.on("signed", (e) => seen.push(e));
  return seen;
}

/** Sends an honest note and waits for it: the link handles messages in order, so all before it are done. */
async function flushLink(low: Mesh, high: Mesh, to: string): Promise<void> {
  const note = nextEvent(high, "signed", (e) => e.body.type === "note" && e.body.text === "after");
  await low.sendSigned(to, { type: "note", text: "after" });
  await note;
}

describe("blobs attached to a signed message", () => {
  it("delivers each blob, hashed, just before its body; the envelope stays the signed one", async () => {
    const { low, high, lowId, highId } = await connectedPair();
    const seen = record(high);
    const a = new Uint8Array([1, 2, 3]);
    const b = crypto.getRandomValues(new Uint8Array(40_000)); // several frames
    const body = nextEvent(high, "signed");
    await low.sendSigned(highId.peerId, { type: "note", text: "with blobs" }, [
      { bytes: a, label: "job" },
      { bytes: b, sha256: await sha256Hex(b) },
    ]);
    const signed = await body;
    expect(seen.map((e) => ("body" in e ? "signed" : "blob"))).toEqual(["blob", "blob", "signed"]);
    const [first, second] = seen as MeshEvents["blob"][];
    expect(first).toMatchObject({ from: lowId.peerId, sha256: await sha256Hex(a), label: "job" });
    expect(second).toMatchObject({ sha256: await sha256Hex(b), label: null });
    expect(Buffer.from(second!.bytes).equals(Buffer.from(b))).toBe(true);
    expect(high.counters.blobsReceived).toBe(2);
    expect("blobs" in signed.envelope).toBe(false);
    expect((await verifyEnvelope(signed.envelope)).ok).toBe(true);
  });

  it("drops the whole message when one blob is not what it claims, and counts it (lying sender)", async () => {
    const { low, high, lowId, highId } = await connectedPair();
    const to = highId.peerId;
    const seen = record(high);
    const good = new Uint8Array([7, 7, 7]);
    const envelope = await signEnvelope(lowId, { type: "note", text: "lies" }, { to });
    const rejected = nextEvent(high, "rejected");
    await low.debugSendRaw(
      to,
      {
        ...envelope,
        blobs: [
          { sha256: await sha256Hex(good), byteLength: 3 },
          { sha256: "00".repeat(32), byteLength: 2 },
        ],
      },
      new Uint8Array([7, 7, 7, 1, 2]),
    );
    expect(await rejected).toMatchObject({ kind: "invalid", code: "blob_hash_mismatch" });
    await flushLink(low, high, to);
    expect(seen.filter((e) => !("body" in e && e.body.type === "note" && e.body.text === "after"))).toEqual(
      [],
    );
    expect(high.counters.blobsReceived).toBe(0);
    expect(high.counters.invalidMessages).toBe(1);
  });

  it("refuses an attachment of another size than the blobs listed, and blobs on a forged or replayed envelope", async () => {
    const { low, high, lowId, highId } = await connectedPair();
    const to = highId.peerId;
    const seen = record(high);
    const bytes = new Uint8Array([1, 2, 3]);
    const blobs = [{ sha256: await sha256Hex(bytes), byteLength: 3 }];
    const genuine = await signEnvelope(lowId, { type: "note", text: "original" }, { to });
    // Declares 3 bytes, carries 2.
    await low.debugSendRaw(to, { ...genuine, blobs }, bytes.subarray(0, 2));
    // Signature broken: its blobs are never delivered (nor hashed).
    const tampered = { ...genuine, body: genuine.body.replace("original", "tampered"), blobs };
    await low.debugSendRaw(to, tampered, bytes);
    // Accepted once, then replayed with the same blobs.
    await low.debugSendRaw(to, { ...genuine, blobs }, bytes);
    await low.debugSendRaw(to, { ...genuine, blobs }, bytes);
    await flushLink(low, high, to);
    expect(seen.filter((e) => !("body" in e)).length).toBe(1);
    expect(high.counters.blobsReceived).toBe(1);
    expect(high.counters.forgedSignatures).toBe(1);
    expect(high.counters.invalidMessages).toBe(2); // the size mismatch and the replay
    expect(high.linkStats()[0]!.state).toBe("open");
  });
});
