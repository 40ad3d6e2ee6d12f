import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPair, identityFromKeyPair, type Identity } from "../../../src/core/identity/identity.ts";
import { buildFrame } from "../../../src/core/net/framing.ts";
import { Mesh, type MeshEvents, type MeshOptions } from "../../../src/core/net/mesh.ts";
import { MeshError } from "../../../src/core/net/mesh-error.ts";
import { signEnvelope } from "../../../src/core/identity/signed-envelope.ts";
import { MemoryHub, MemoryTransport } from "./memory-transport.ts";

const meshes: Mesh[] = [];
afterEach(() => {
  for (const mesh of meshes.splice(0)) mesh.close();
});

async function newIdentity(): Promise<Identity> {
  return identityFromKeyPair(await generateKeyPair());
}

/** Two identities ordered so that `low` dials `high`. */
async function orderedPair(): Promise<[Identity, Identity]> {
  const a = await newIdentity();
  const b = await newIdentity();
  return a.peerId < b.peerId ? [a, b] : [b, a];
}

async function startMesh(
  hub: MemoryHub,
  identity: Identity,
  options: Partial<MeshOptions> = {},
): Promise<Mesh> {
  const mesh = new Mesh({
    identity,
    transport: new MemoryTransport(hub, identity.peerId),
    enableDebug: true,
    ...options,
  });
  meshes.push(mesh);
  await mesh.start();
  return mesh;
}

function introduce(...members: [Mesh, Identity][]): void {
  const infos = members.map(([, id]) => ({ peerId: id.peerId, publicKey: id.publicKey, joinedAtMs: 1 }));
  for (const [mesh] of members) mesh.updatePeers(infos);
}

function nextEvent<K extends keyof MeshEvents>(
  mesh: Mesh,
  event: K,
  predicate: (p: MeshEvents[K]) => boolean = () => true,
): Promise<MeshEvents[K]> {
  return new Promise((resolve) => {
    const off = mesh.on(event, (payload) => {
      if (!predicate(payload)) return;
      off();
      resolve(payload);
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function connectedPair(options: Partial<MeshOptions> = {}) {
  const hub = new MemoryHub();
  const [lowId, highId] = await orderedPair();
  const low = await startMesh(hub, lowId, options);
  const high = await startMesh(hub, highId, options);
  introduce([low, lowId], [high, highId]);
  await Promise.all([low.waitForPeer(highId.peerId, 5000), high.waitForPeer(lowId.peerId, 5000)]);
  return { hub, low, high, lowId, highId };
}

describe("mesh over an in-memory transport", () => {
  it("connects once (the smaller id dials) and authenticates both ways", async () => {
    const { hub, low, high, lowId, highId } = await connectedPair();
    expect(hub.links.filter((l) => l.dialer).map((l) => l.remotePeerId)).toEqual([highId.peerId]);
    expect(low.linkStats()).toMatchObject([{ peerId: highId.peerId, dialer: true, state: "open" }]);
    expect(high.linkStats()).toMatchObject([{ peerId: lowId.peerId, dialer: false, state: "open" }]);
    expect(low.counters.handshakesCompleted).toBe(1);
    expect(high.counters.handshakesCompleted).toBe(1);
    const rtt = await high.ping(lowId.peerId);
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(high.linkStats()[0]!.rttMs).toBe(rtt);
  });

  it("delivers a signed note, verified, and rejects a replay of it", async () => {
    const { low, high, lowId, highId } = await connectedPair();
    const received = nextEvent(high, "signed");
    const envelope = await low.sendSigned(highId.peerId, { type: "note", text: "hello over the mesh" });
    const event = await received;
    expect(event.from).toBe(lowId.peerId);
    expect(event.via).toBe(lowId.peerId);
    expect(event.body).toMatchObject({ type: "note", text: "hello over the mesh", to: highId.peerId });
    const rejected = nextEvent(high, "rejected");
    await low.debugSendRaw(highId.peerId, envelope);
    expect(await rejected).toMatchObject({ kind: "invalid", code: "replayed" });
  });

  it("transfers a 5 MB blob with backpressure and resolves on the matching acknowledgement", async () => {
    const { hub, low, high, lowId, highId } = await connectedPair({
      backpressure: { highWaterMarkBytes: 512 * 1024, lowWaterMarkBytes: 128 * 1024 },
    });
    const bytes = new Uint8Array(5_000_000);
    for (let i = 0; i < bytes.length; i += 4096)
      bytes.set(crypto.getRandomValues(new Uint8Array(4096)).subarray(0, bytes.length - i), i);
    const got = nextEvent(high, "blob");
    const receipt = await low.sendBlob(highId.peerId, bytes, { label: "test" });
    const blob = await got;
    expect(receipt.byteLength).toBe(5_000_000);
    expect(blob).toMatchObject({ from: lowId.peerId, sha256: receipt.sha256, label: "test" });
    expect(Buffer.from(blob.bytes).equals(Buffer.from(bytes))).toBe(true);
    const channel = hub.links.find((l) => l.dialer)!.memoryChannel;
    expect(channel.maxBufferedAmount).toBeLessThanOrEqual(512 * 1024 + 16 * 1024);
    expect(high.counters.blobsReceived).toBe(1);
    expect(high.counters.bytesReceived).toBeGreaterThan(5_000_000);
  });

  it("rejects a blob whose hash does not match, and the sender learns it", async () => {
    const { low, high, highId } = await connectedPair();
    const bytes = new Uint8Array([1, 2, 3]);
    const reply = low.request(
      highId.peerId,
      { type: "blob", id: "liar1", sha256: "00".repeat(32), byteLength: 3 },
      { attachment: bytes },
    );
    const answer = await reply;
    expect(answer.message).toMatchObject({ type: "blob-ack", ok: false });
    expect(high.counters.invalidMessages).toBe(1);
    expect(high.counters.blobsReceived).toBe(0);
  });

  it("drops and counts garbage and forgeries, and keeps working", async () => {
    const { low, high, lowId, highId } = await connectedPair();
    const to = highId.peerId;
    await low.debugSendRaw(to, "a text frame");
    await low.debugSendRaw(to, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]));
    await low.debugSendRaw(to, buildFrame(77, 0, 1, new Uint8Array([0, 0, 0, 2, 0x7b])));
    await low.debugSendRaw(to, { v: 9, type: "ping", id: "x" });
    await low.debugSendRaw(to, { v: 1, type: "exec", cmd: "x" });
    await low.debugSendRaw(to, {
      v: 1,
      type: "hello",
      peerId: lowId.peerId,
      publicKey: lowId.publicKey,
      nonce: "A".repeat(43),
    });
    const genuine = await signEnvelope(lowId, { type: "note", text: "original" }, { to });
    await low.debugSendRaw(to, { ...genuine, body: genuine.body.replace("original", "tampered") });
    const other = await newIdentity();
    const impostor = await signEnvelope(other, { type: "note", text: "i am low" }, { to });
    await low.debugSendRaw(to, { ...impostor, from: lowId.peerId, publicKey: lowId.publicKey });
    await low.debugSendRaw(to, { ...genuine, publicKey: other.publicKey });

    const note = nextEvent(high, "signed");
    await low.sendSigned(to, { type: "note", text: "still alive" });
    expect((await note).body).toMatchObject({ text: "still alive" });
    await until(() => high.counters.invalidMessages === 6 && high.counters.forgedSignatures === 3);
    expect(high.counters.messagesReceived).toBeGreaterThanOrEqual(1);
    expect(high.linkStats()[0]!.state).toBe("open");
  });

  it("disconnects a peer that keeps sending garbage", async () => {
    const { low, high, highId } = await connectedPair({ maxInvalidPerLink: 5 });
    const closed = nextEvent(high, "peer-close");
    for (let i = 0; i < 5; i++) await low.debugSendRaw(highId.peerId, "junk");
    expect((await closed).reason).toMatch(/too many invalid/);
    void low;
  });

  it("times out requests that get no answer", async () => {
    const { low, highId } = await connectedPair();
    // A pong is only sent for pings; a blob-ack nobody asked for answers nothing: use a message with no reply.
    await expect(
      low.request(highId.peerId, { type: "pong", replyTo: "nothing" }, { timeoutMs: 100 }),
    ).rejects.toMatchObject({
      code: "timeout",
    });
  });

  it("refuses debugSendRaw unless enabled, and sending to unknown peers", async () => {
    const { low, highId } = await connectedPair({ enableDebug: false });
    await expect(low.debugSendRaw(highId.peerId, "x")).rejects.toBeInstanceOf(MeshError);
    await expect(low.debugSendRaw(highId.peerId, "x")).rejects.toMatchObject({ code: "debug_disabled" });
    await expect(low.sendSigned("os" + "0".repeat(32), { type: "note", text: "?" })).rejects.toMatchObject({
      code: "not_connected",
    });
  });
});

describe("mesh handshake against impostors", () => {
  it("rejects a peer that claims an id without its private key (forged proof)", async () => {
    const hub = new MemoryHub();
    const [victimId, honestId] = await orderedPair();
    const mallory = await newIdentity();
    const honest = await startMesh(hub, honestId);
    // Mallory registers under the victim's id with the victim's public key, but can only sign with her own key.
    const impostorIdentity: Identity = {
      peerId: victimId.peerId,
      publicKey: victimId.publicKey,
      sign: mallory.sign,
    };
    const impostor = await startMesh(hub, impostorIdentity);
    const rejected = nextEvent(honest, "rejected");
    introduce([honest, honestId], [impostor, victimId]);
    expect(await rejected).toMatchObject({ kind: "forged", code: "bad_proof" });
    await until(() => honest.counters.handshakesFailed === 1);
    expect(honest.counters.forgedSignatures).toBe(1);
    expect(honest.connectedPeerIds()).toEqual([]);
  });

  it("rejects a hello whose key does not hash to the claimed id", async () => {
    const hub = new MemoryHub();
    const [victimId, honestId] = await orderedPair();
    const mallory = await newIdentity();
    const honest = await startMesh(hub, honestId);
    const impostor = await startMesh(hub, {
      peerId: victimId.peerId,
      publicKey: mallory.publicKey,
      sign: mallory.sign,
    });
    const rejected = nextEvent(honest, "rejected");
    introduce([honest, honestId], [impostor, victimId]);
    expect(await rejected).toMatchObject({ kind: "handshake", code: "key_mismatch" });
    await until(() => honest.counters.handshakesFailed === 1);
    expect(honest.connectedPeerIds()).toEqual([]);
  });

  it("fails the handshake when a relay swaps DTLS certificates (fingerprint binding)", async () => {
    const hub = new MemoryHub();
    hub.onPair = (dialerSide) => {
      dialerSide.remoteFingerprintOverride = "sha-256 " + "AA:".repeat(31) + "AA";
    };
    const [lowId, highId] = await orderedPair();
    const low = await startMesh(hub, lowId);
    const high = await startMesh(hub, highId);
    const lowRejected = nextEvent(low, "rejected");
    const highRejected = nextEvent(high, "rejected");
    introduce([low, lowId], [high, highId]);
    expect(await lowRejected).toMatchObject({ code: "bad_proof" });
    expect(await highRejected).toMatchObject({ code: "bad_proof" });
  });

  it("redials after a link drops while the peer stays in the directory", async () => {
    const { hub, low, high, highId } = await connectedPair({ redialBaseMs: 10 });
    const reopened = nextEvent(low, "peer-open");
    hub.links.find((l) => l.dialer)!.close();
    expect((await reopened).peerId).toBe(highId.peerId);
    expect(low.counters.handshakesCompleted).toBe(2);
    void high;
  });

  it("replaces the link when a peer rejoins the directory (a reloaded tab)", async () => {
    const { low, high, lowId, highId } = await connectedPair({ redialBaseMs: 10 });
    const closed = nextEvent(low, "peer-close");
    const reopened = nextEvent(low, "peer-open");
    low.updatePeers([{ peerId: highId.peerId, publicKey: highId.publicKey, joinedAtMs: 2 }]);
    expect((await closed).reason).toMatch(/rejoined/);
    await reopened;
    expect(low.connectedPeerIds()).toEqual([highId.peerId]);
    void high;
    void lowId;
  });
});
