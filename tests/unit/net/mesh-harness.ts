/** Shared setup for mesh tests over the in-memory transport (memory-transport.ts). */
import { afterEach } from "vitest";
import { generateKeyPair, identityFromKeyPair, type Identity } from "../../../src/core/identity/identity.ts";
import { Mesh, type MeshEvents, type MeshOptions } from "../../../src/core/net/mesh.ts";
import { MemoryHub, MemoryTransport } from "./memory-transport.ts";

const meshes: Mesh[] = [];
afterEach(() => {
  for (const mesh of meshes.splice(0)) mesh.close();
});

export async function newIdentity(): Promise<Identity> {
  return identityFromKeyPair(await generateKeyPair());
}

/** `count` identities sorted by peer id (the smaller id dials). */
export async function sortedIdentities(count: number): Promise<Identity[]> {
  const ids = await Promise.all(Array.from({ length: count }, () => newIdentity()));
  return ids.sort((a, b) => (a.peerId < b.peerId ? -1 : 1));
}

export async function startMesh(
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

export function infoOf(identity: Identity, joinedAtMs = 1) {
  return { peerId: identity.peerId, publicKey: identity.publicKey, joinedAtMs };
}

export function introduce(...members: [Mesh, Identity][]): void {
  const infos = members.map(([, id]) => infoOf(id));
  for (const [mesh] of members) mesh.updatePeers(infos);
}

export function nextEvent<K extends keyof MeshEvents>(
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

/** Polls a condition (no fixed sleeps): fails with `what` if it does not hold within the timeout. */
export async function until(condition: () => boolean, what = "condition", timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A clock a test moves by hand, so token buckets and age windows do not depend on machine speed. */
export function manualClock(startMs = Date.now()) {
  let now = startMs;
  return {
    nowMs: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

export { MemoryHub };
