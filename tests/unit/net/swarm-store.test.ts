import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPair, identityFromKeyPair, type Identity } from "../../../src/core/identity/identity.ts";
import type { DirectoryClient } from "../../../src/core/net/directory-client.ts";
import { Emitter } from "../../../src/core/base/emitter.ts";
import { Mesh } from "../../../src/core/net/mesh.ts";
import type { Swarm, SwarmEvents } from "../../../src/core/net/swarm.ts";
import type { Capabilities } from "../../../src/core/protocol/capabilities.ts";
import type { DirectoryPeer } from "../../../src/core/protocol/directory.ts";
import { createSwarmStore } from "../../../src/state/swarm/store.ts";
import { MemoryHub, MemoryTransport } from "./memory-transport.ts";

const capabilities: Capabilities = {
  webgpu: null,
  wasm: { simd: true, threads: false },
  hardwareConcurrency: 2,
  crossOriginIsolated: false,
  benchmarkMflops: 100,
  runtime: "node",
};

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A Swarm whose directory is a fixed list (the directory client is tested with the signaling server). */
async function memorySwarm(
  hub: MemoryHub,
  identity: Identity,
  everyone: () => DirectoryPeer[],
): Promise<Swarm> {
  const mesh = new Mesh({
    identity,
    transport: new MemoryTransport(hub, identity.peerId),
    enableDebug: true,
  });
  await mesh.start();
  const emitter = new Emitter<SwarmEvents>();
  const peerListeners = new Set<(peers: readonly DirectoryPeer[]) => void>();
  const directory = {
    get peers() {
      return everyone().filter((p) => p.peerId !== identity.peerId);
    },
    get totalPeers() {
      return everyone().length - 1;
    },
    onPeers(listener: (peers: readonly DirectoryPeer[]) => void) {
      peerListeners.add(listener);
      return () => peerListeners.delete(listener);
    },
  } as unknown as DirectoryClient;
  const swarm: Swarm = {
    identity,
    capabilities,
    probeNotes: [],
    iceServers: [],
    directory,
    mesh,
    status: "connected",
    on: (event, listener) => emitter.on(event, listener),
    close: () => mesh.close(),
  };
  closers.push(() => mesh.close());
  return swarm;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("swarm store", () => {
  it("reports a failed start as disconnected with the error", async () => {
    const store = createSwarmStore({
      persistentIdentity: true,
      startSwarm: () => Promise.reject(new Error("directory_failed: server unreachable")),
    });
    await store.getState().actions.start();
    expect(store.getState()).toMatchObject({
      status: "disconnected",
      self: null,
      lastError: "directory_failed: server unreachable",
    });
  });

  it("shows peers with link state, received notes and counters", async () => {
    const hub = new MemoryHub();
    const ids = await Promise.all([0, 1].map(async () => identityFromKeyPair(await generateKeyPair())));
    const everyone = () =>
      ids.map((id) => ({ peerId: id.peerId, publicKey: id.publicKey, capabilities, joinedAtMs: 1 }));
    const swarms = await Promise.all(ids.map((id) => memorySwarm(hub, id, everyone)));
    const store = createSwarmStore({ persistentIdentity: true, startSwarm: async () => swarms[0]! });
    await store.getState().actions.start();
    expect(store.getState().self?.peerId).toBe(ids[0]!.peerId);
    for (const swarm of swarms) swarm.mesh.updatePeers(everyone());
    const other = ids[1]!.peerId;
    await until(() => store.getState().peers.some((p) => p.peerId === other && p.connected));
    await until(() => store.getState().peers[0]!.rttMs !== null);

    await swarms[1]!.mesh.sendSigned(ids[0]!.peerId, { type: "note", text: "to the store" });
    await swarms[1]!.mesh.debugSendRaw(ids[0]!.peerId, "garbage");
    await until(
      () => store.getState().recentNotes.length === 1 && store.getState().counters.invalidDropped === 1,
    );
    expect(store.getState().recentNotes[0]).toMatchObject({ from: other, text: "to the store" });
    expect(store.getState().counters.messagesReceived).toBeGreaterThanOrEqual(1);
    expect(store.getState().status).toBe("connected");

    store.getState().actions.stop();
    expect(store.getState().status).toBe("disconnected");
  });
});
