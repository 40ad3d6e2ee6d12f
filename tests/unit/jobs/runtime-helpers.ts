import "fake-indexeddb/auto";
import { BlobCache } from "../../../src/core/base/blob-cache.ts";
import type { VolunteerFault } from "../../../src/core/jobs/volunteer/volunteer-fault.ts";
import type { BlockHostFactory } from "../../../src/core/distributed/index.ts";
import { meshJobLink, type JobLink } from "../../../src/core/jobs/job-link.ts";
import type { VolunteerCapabilities } from "../../../src/core/jobs/model.ts";
import { RequesterRuntime, type RequesterRuntimeOptions } from "../../../src/core/jobs/requester/runtime.ts";
import type { UnitSolveOutcome, UnitSolver } from "../../../src/core/jobs/volunteer/unit-solver.ts";
import { VolunteerRuntime } from "../../../src/core/jobs/volunteer/index.ts";
import { generateKeyPair, identityFromKeyPair } from "../../../src/core/identity/identity.ts";
import { OpenSwarmDb } from "../../../src/core/storage/db.ts";
import { JobRepository } from "../../../src/core/storage/job-repository.ts";
import { Mesh, type MeshOptions } from "../../../src/core/net/mesh.ts";
import { solve } from "../../../src/core/solver/solve.ts";
import { MemoryHub, MemoryTransport } from "../net/memory-transport.ts";

/**
 * A small swarm in one Node process for the runtime tests: real meshes (signed envelopes, blobs with their
 * SHA-256 checks) over the in-memory transport, real IndexedDB semantics (fake-indexeddb), and the core
 * solver called directly in place of the solver worker.
 */

export const CAPS: VolunteerCapabilities = { webgpu: false, memoryBytes: 1024 ** 3, benchmarkMflops: 500 };

/** The core solver (js kernels) as a UnitSolver; `calls` counts solves, for "never ran it" checks. */
export function coreUnitSolver(): UnitSolver & { calls: number } {
  const solver = {
    calls: 0,
    solve: (a, b, options, { signal, onProgress }) => {
      solver.calls++;
      return new Promise<UnitSolveOutcome>((resolve) =>
        setTimeout(() => {
          if (signal.aborted) return resolve({ ok: false, code: "cancelled", message: "cancelled" });
          const r = solve(a, b, {
            method: options.method,
            tol: options.tol,
            maxIter: options.maxIter,
            updateEvery: options.updateEvery,
            onUpdate: (u) => onProgress({ iteration: u.iteration, relResidual: u.residual_norm }),
            signal: { aborted: false } as AbortSignal,
          });
          resolve({ ok: true, solved: r });
        }, 0),
      );
    },
    dispose: () => undefined,
  } satisfies UnitSolver & { calls: number };
  return solver;
}

export interface TestPeer {
  readonly mesh: Mesh;
  readonly link: JobLink;
  readonly cache: BlobCache;
  readonly solver: UnitSolver & { calls: number };
  volunteer: VolunteerRuntime | null;
  /** Blob arrivals at this peer, by SHA-256. */
  readonly blobsIn: Map<string, number>;
}

const cleanups: (() => void)[] = [];

export function cleanup(): void {
  for (const c of cleanups.splice(0).reverse()) c();
}

export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * n peers, each with a volunteer runtime (optionally faulty). Linked: every pair ("all", default), or
 * only peer 0 (the requester) with each other peer ("star": it wants them, as a requester wants its
 * volunteers; with the overlay's on-demand dialing, other links open only when someone asks).
 */
export async function startPeers(
  n: number,
  options: {
    fault?: (index: number) => VolunteerFault | null;
    /** Where peer `index` runs distributed blocks (default: on its thread). */
    blockHost?: (index: number) => BlockHostFactory | undefined;
    /** Mesh options of peer `index` (the overlay: dialPolicy "on-demand", maxLinks). */
    mesh?: (index: number) => Partial<MeshOptions>;
    links?: "all" | "star";
  } = {},
): Promise<TestPeer[]> {
  const hub = new MemoryHub();
  const ids = await Promise.all(
    Array.from({ length: n }, async () => identityFromKeyPair(await generateKeyPair())),
  );
  const peers: TestPeer[] = [];
  for (const [i, identity] of ids.entries()) {
    const mesh = new Mesh({
      ...options.mesh?.(i),
      identity,
      transport: new MemoryTransport(hub, identity.peerId),
    });
    await mesh.start();
    const link = meshJobLink(mesh);
    const cache = new BlobCache();
    const blobsIn = new Map<string, number>();
    mesh.on("blob", (e) => blobsIn.set(e.sha256, (blobsIn.get(e.sha256) ?? 0) + 1));
    const solver = coreUnitSolver();
    const blockHost = options.blockHost?.(i);
    const volunteer = new VolunteerRuntime({
      link,
      cache,
      solver,
      fault: options.fault?.(i) ?? null,
      ...(blockHost !== undefined ? { blockHost } : {}),
    });
    peers.push({ mesh, link, cache, solver, volunteer, blobsIn });
    cleanups.push(() => {
      peers[i]!.volunteer?.close();
      link.close();
      mesh.close();
    });
  }
  const infos = ids.map((id) => ({ peerId: id.peerId, publicKey: id.publicKey, joinedAtMs: 1 }));
  for (const p of peers) p.mesh.updatePeers(infos);
  if (options.links === "star") {
    const [hub0, ...others] = peers;
    for (const q of others) hub0!.mesh.want(q.mesh.peerId, "test-requester");
    // Both ends: one end may see the link open first.
    await until(() =>
      others.every((q) => hub0!.link.isLinked(q.mesh.peerId) && q.link.isLinked(hub0!.mesh.peerId)),
    );
    return peers;
  }
  await Promise.all(
    peers.flatMap((p) => peers.filter((q) => q !== p).map((q) => p.mesh.waitForPeer(q.mesh.peerId, 5_000))),
  );
  return peers;
}

let dbCounter = 0;
export function freshDbName(): string {
  return `runtime-test-${Date.now()}-${dbCounter++}`;
}

export function openRepo(name: string): JobRepository {
  const db = new OpenSwarmDb(name);
  cleanups.push(() => db.close());
  return new JobRepository(db);
}

/** A requester on `peer`, scheduling to the peers it has open links to (and itself). */
export async function startRequester(
  peer: TestPeer,
  repo: JobRepository,
  overrides: Partial<RequesterRuntimeOptions> = {},
): Promise<RequesterRuntime> {
  const rt = await RequesterRuntime.start({
    link: peer.link,
    repo,
    cache: peer.cache,
    volunteers: () => peer.link.connectedPeerIds().map((peerId) => ({ peerId, capabilities: CAPS })),
    tickMs: 50,
    ...overrides,
  });
  cleanups.push(() => rt.close());
  return rt;
}
