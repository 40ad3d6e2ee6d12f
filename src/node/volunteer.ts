import { BlobCache } from "../core/base/blob-cache.ts";
import type { ExpertHostFault, ExpertHostStats } from "../core/experts/host/index.ts";
import { type ExpertLink, meshExpertLink } from "../core/experts/link/index.ts";
import type { JobLink } from "../core/jobs/job-link.ts";
import { swarmJobLink } from "../core/jobs/swarm-job-link.ts";
import {
  VolunteerRuntime,
  type VolunteerFault,
  type VolunteerSnapshot,
} from "../core/jobs/volunteer/index.ts";
import type { IdentityStore } from "../core/identity/keystore.ts";
import { workerThreadBlockHost } from "./block-host.ts";
import type { NodeExpertHost } from "./expert-host.ts";
import { startNodeSwarm, type NodeSwarm } from "./node-swarm.ts";
import type { SignalGuardSnapshot } from "./signal-guard.ts";
import { createNodeUnitSolver } from "./unit-solver.ts";

export interface NodeVolunteerOptions {
  readonly server: string;
  readonly identityStore: IdentityStore;
  /** 0.1..1: the runtime's duty cycle (as the tab's CPU-share slider). */
  readonly cpuShare?: number;
  /** wasm threads per solve; undefined: by matrix size. Also the cores announced to the directory. */
  readonly threads?: number;
  /** Links held at most (default NODE_MAX_LINKS). */
  readonly maxLinks?: number;
  /** Leave after this many units (undefined: run until stopped). */
  readonly maxUnits?: number;
  /** TEST ONLY: a lying volunteer (core/jobs/volunteer/fault-injection.ts, which refuses outside test mode):
   *  tests/unit/api/swarm.test.ts proves the server's requester never returns its results. */
  readonly fault?: VolunteerFault;
  /** Also host experts (`--experts`; node/expert-host.ts): where verified model bytes are kept. */
  readonly experts?: NodeVolunteerExperts;
  /** `peakLinks`: the most links held at once so far (the mesh's counter); `experts`: the expert host's
   *  stats (null without --experts). */
  readonly onChange?: (
    snapshot: VolunteerSnapshot,
    peers: number,
    peakLinks: number,
    experts: ExpertHostStats | null,
  ) => void;
}

export interface NodeVolunteerExperts {
  readonly modelCacheDir: string;
  /** TEST ONLY: a lying or dying host (core/experts/host/faults.ts). */
  readonly fault?: ExpertHostFault;
}

/** How long a leaving volunteer waits for its give-backs to go out before it closes the links anyway. */
const LEAVE_FLUSH_MS = 3_000;
/** How long it waits, besides, for its requesters to say they received (and stored) the results it sent. */
const LEAVE_VERDICT_MS = 10_000;

/**
 * A headless volunteer: the tab's VolunteerRuntime (same protocol, same checks) on a Node swarm, with the
 * wasm kernels in a worker thread and each distributed block in a worker thread of its own. `leave()` is
 * the clean exit: pausing gives every held unit back (unit-error "cancelled"/"declined", so the requester
 * reissues it at once instead of waiting for the lease to expire); the give-backs are flushed, the verdicts
 * on the results it sent are waited for (bounded: they say the requester stored them), then the links and
 * the directory session are closed.
 * With `experts`, it also hosts experts for requesters (the tab's ExpertHost, node/expert-host.ts); leaving
 * tells them it paused (they reroute at once), answers its queued batches and unloads its models first.
 */
export class NodeVolunteer {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly runtime: VolunteerRuntime;
  private left = false;
  private experts: NodeExpertHost | null = null;
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;

  private constructor(
    readonly swarm: NodeSwarm,
    private readonly options: NodeVolunteerOptions,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    const link = this.tracked(swarmJobLink(swarm));
    this.runtime = new VolunteerRuntime({
      link,
      cache: new BlobCache(),
      solver: createNodeUnitSolver(options.threads),
      // Distributed-solve blocks compute in worker threads, off the thread that heartbeats and links.
      blockHost: workerThreadBlockHost,
      webgpu: false,
      ...(options.fault ? { fault: options.fault } : {}),
      ...(options.maxUnits !== undefined ? { maxHeld: Math.max(1, Math.min(8, options.maxUnits)) } : {}),
      onChange: (snapshot) => this.changed(snapshot),
    });
    if (options.cpuShare !== undefined) this.runtime.setCpuShare(options.cpuShare);
    swarm.mesh.on("stats", () => this.changed(this.runtime.snapshot()));
  }

  static async start(options: NodeVolunteerOptions): Promise<NodeVolunteer> {
    const swarm = await startNodeSwarm({
      server: options.server,
      identityStore: options.identityStore,
      ...(options.threads !== undefined ? { cores: options.threads } : {}),
      ...(options.maxLinks !== undefined ? { mesh: { maxLinks: options.maxLinks } } : {}),
    });
    const volunteer = new NodeVolunteer(swarm, options);
    if (options.experts) {
      try {
        await volunteer.hostExperts(options.experts);
      } catch (error) {
        swarm.close();
        throw error;
      }
    }
    return volunteer;
  }

  /** The expert host's stats (null without --experts). */
  expertStats(): ExpertHostStats | null {
    return this.experts?.host.stats() ?? null;
  }

  private async hostExperts(experts: NodeVolunteerExperts): Promise<void> {
    // Loaded only here: onnxruntime-node is a native module a solve-only volunteer never needs.
    const { startNodeExpertHost } = await import("./expert-host.ts");
    this.experts = await startNodeExpertHost({
      server: this.options.server,
      mesh: this.swarm.mesh,
      link: this.trackedExperts(meshExpertLink(this.swarm.mesh)),
      modelCacheDir: experts.modelCacheDir,
      ...(this.options.threads !== undefined ? { threads: this.options.threads } : {}),
      ...(experts.fault ? { fault: experts.fault } : {}),
    });
    this.experts.host.on("stats", () => this.changed(this.runtime.snapshot()));
  }

  snapshot(): VolunteerSnapshot {
    return this.runtime.snapshot();
  }

  /** Signaling frames refused by cause (floods of offers and candidates): printed by --json and the line. */
  signaling(): SignalGuardSnapshot {
    return this.swarm.transport.signaling();
  }

  /** Gives held units back, waits (bounded) for those messages to go out, then closes everything. */
  async leave(): Promise<void> {
    if (this.left) return this.finished;
    this.left = true;
    this.runtime.pause();
    const hosting = this.experts?.close();
    const deadline = Date.now() + LEAVE_FLUSH_MS;
    const flush = Promise.allSettled([...this.pending]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([flush, new Promise((r) => (timer = setTimeout(r, LEAVE_FLUSH_MS)))]);
    clearTimeout(timer);
    // A sent message is only queued on its data channel; closing the connection now would drop what is
    // still buffered (a last result, lost under load: e2e node-submit-resume saw 2 of 3 arrive). Wait for
    // the channels to transmit it, within the same bound.
    while (this.swarm.mesh.unsentBytes() > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // Transmitted is not yet received: closing the connection drops what the transport has not delivered
    // (a loaded run still lost a last result this way). A requester answers each result with a unit-verdict
    // once it has stored it; wait for those of the requesters still linked, within a bound (a requester may
    // stay silent: the verdict is display only, and nothing else waits on it).
    const verdictDeadline = Date.now() + LEAVE_VERDICT_MS;
    while (this.#awaitingVerdicts() && Date.now() < verdictDeadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await hosting?.catch(() => undefined);
    this.runtime.close();
    this.swarm.close();
    this.resolveFinished();
  }

  /** A result this volunteer sent has no verdict yet, and its requester is still linked. */
  #awaitingVerdicts(): boolean {
    const linked = new Set(this.swarm.mesh.connectedPeerIds());
    return this.runtime.snapshot().log.some((e) => e.outcome === "sent" && linked.has(e.requesterId));
  }

  private changed(snapshot: VolunteerSnapshot): void {
    const mesh = this.swarm.mesh;
    this.options.onChange?.(
      snapshot,
      mesh.connectedPeerIds().length,
      mesh.counters.peakLinks,
      this.expertStats(),
    );
    const max = this.options.maxUnits;
    if (max !== undefined && snapshot.unitsDone >= max && !this.left) void this.leave();
  }

  /** Remembers an outgoing message until it settles (for leave's flush). */
  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
    return promise;
  }

  /** The job link with every outgoing message tracked. */
  private tracked(link: JobLink): JobLink {
    return {
      ...link,
      sendBody: (to, body, attach) => this.track(link.sendBody(to, body, attach)),
      sendBlob: (to, bytes) => this.track(link.sendBlob(to, bytes)),
    };
  }

  /** The expert link with every outgoing message tracked (the `paused` and `shutting_down` of leave). */
  private trackedExperts(link: ExpertLink): ExpertLink {
    return { ...link, send: (to, message) => this.track(link.send(to, message)) };
  }
}
