import { ReputationBook } from "../../trust/reputation.ts";
import { realNowMs } from "../../base/clock.ts";
import { Emitter } from "../../base/emitter.ts";
import { RemoteCalls } from "./dispatch/calls.ts";
import { HostRegistry, type HostEntry } from "./dispatch/hosts.ts";
import type { Job, JobModel } from "./jobs/job.ts";
import { LocalModels } from "./dispatch/local.ts";
import { PlacementKeeper } from "./placement.ts";
import type { ExpertRouterOptions, RouterEvents, RouterTotals, RunModelResult } from "./types.ts";
import { sourceDigest } from "../models/model-bytes.ts";
import { ExpertError } from "../models/runner.ts";

/** The router's options with every default filled in. */
export type RouterSettings = Required<Omit<ExpertRouterOptions, "reputation" | "gate" | "experts">>;

export type HostFailure = RunModelResult["hostFailures"][number];

/**
 * The state ExpertRouter (router.ts) shares with the modules that do its work: the batch pipeline
 * (dispatch/, verification/), the two kinds of job (jobs/classify.ts, jobs/run-model.ts), the stats
 * snapshot (stats.ts). One object, so each of them sees the same hosts, totals and jobs.
 */
export interface RouterCore {
  readonly o: RouterSettings;
  readonly book: ReputationBook;
  readonly emitter: Emitter<RouterEvents>;
  readonly registry: HostRegistry;
  readonly calls: RemoteCalls;
  readonly local: LocalModels;
  readonly placement: PlacementKeeper;
  /** The experts' digests, expert e at index e. */
  readonly shas: readonly string[];
  readonly expertModels: readonly JobModel[];
  /** Digests this router uses now: the experts', and the models of running generic jobs. */
  readonly wanted: Set<string>;
  /** Running generic jobs per model digest, and what volunteers said when they could not load it. */
  readonly modelJobs: Map<string, { jobs: number; failures: HostFailure[] }>;
  readonly perExpert: { routed: number; chosen: number; local: number }[];
  readonly rowsByHost: Map<string, number>;
  /** Jobs running now (a host caught lying has its accepted rows in them recomputed). */
  readonly jobs: Set<Job>;
  readonly totals: { -readonly [K in keyof RouterTotals]: RouterTotals[K] };
  seq: number;
  closed: boolean;
}

/** Fills in the defaults, checks the options, and builds the router's shared state. */
export function createRouterCore(options: ExpertRouterOptions): RouterCore {
  const random = options.random ?? Math.random;
  const nowMs = options.nowMs ?? realNowMs;
  const { gate, experts = [], reputation, ...rest } = options;
  const o: RouterSettings = {
    classes: 10,
    batchRows: 64,
    canariesPerRequest: 1,
    replicas: 2,
    maxInFlightPerHost: 2,
    maxRemoteAttempts: 3,
    minTimeoutMs: 2_000,
    maxTimeoutMs: 60_000,
    firstTimeoutMs: 15_000,
    timeoutFactor: 8,
    suspendAfterTimeouts: 2,
    suspendMs: 30_000,
    explore: 0.05,
    localChunkRows: 1024,
    adoptAnnouncedHosts: true,
    probeGraceMs: 3_000,
    modelHostWaitMs: 15_000,
    ...rest,
    random,
    nowMs,
  };
  if (gate && experts.length < 1) throw new ExpertError("bad_input", "the router needs at least one expert");
  if (!gate && experts.length > 0)
    throw new ExpertError("bad_input", "experts without a gate cannot be routed");
  if (o.batchRows < 1 || o.batchRows > 4000) {
    throw new ExpertError("bad_input", `batchRows must be 1..4000, got ${o.batchRows}`);
  }
  const book = reputation ?? new ReputationBook();
  const shas = experts.map(sourceDigest);
  const registry = new HostRegistry({
    maxInFlightPerHost: o.maxInFlightPerHost,
    explore: o.explore,
    suspendAfterTimeouts: o.suspendAfterTimeouts,
    suspendMs: o.suspendMs,
    random,
    nowMs,
  });
  const calls = new RemoteCalls(o.link, nowMs, random);
  const local = new LocalModels(o.local, gate ?? null, experts, o.classes, o.localChunkRows);
  const expertModels: JobModel[] = shas.map((sha256, e) => ({
    sha256,
    cols: o.classes,
    layout: null,
    label: `expert ${e}`,
    expert: e,
    runLocal: (input, rows) => local.runExpert(e, input, rows),
    timeoutMs: () => null,
    measured: () => undefined,
  }));
  const placement = new PlacementKeeper(
    o.link,
    experts,
    o.replicas,
    (peerId) => registry.get(peerId)?.banned != null,
    nowMs,
    o.probeGraceMs,
  );
  return {
    o,
    book,
    emitter: new Emitter<RouterEvents>(),
    registry,
    calls,
    local,
    placement,
    shas,
    expertModels,
    wanted: new Set(shas),
    modelJobs: new Map(),
    perExpert: shas.map(() => ({ routed: 0, chosen: 0, local: 0 })),
    rowsByHost: new Map(),
    jobs: new Set(),
    totals: {
      jobs: 0,
      rowsClassified: 0,
      expertRows: 0,
      remoteRows: 0,
      localRows: 0,
      fallbackRows: 0,
      canaryRows: 0,
      arbitrationRows: 0,
      canariesSent: 0,
      replicatedBatches: 0,
      disagreements: 0,
      retries: 0,
      liarsCaught: 0,
      rowsDiscarded: 0,
      redoneRows: 0,
      lateResults: 0,
      modelJobs: 0,
      modelRows: 0,
    },
    seq: 0,
    closed: false,
  };
}

/** A host with a free slot for the model (its slot taken), or null when none is usable (or the router is
 *  closed). Replicas and retries (priority 0) go before fresh batches (1). */
export function acquireHost(
  core: RouterCore,
  sha: string,
  exclude: ReadonlySet<string>,
  priority: 0 | 1,
): Promise<HostEntry | null> {
  if (core.closed) return Promise.resolve(null);
  return core.registry.acquire(sha, exclude, priority);
}

/** This tab's own host (the loopback): trusted like the requester's own runner. */
export function isSelf(core: RouterCore, peerId: string): boolean {
  return peerId === core.o.link.selfId;
}

/** Expert indices of the digests a host serves (generic models left out), ascending. */
export function expertsOf(core: RouterCore, ready: ReadonlySet<string>): number[] {
  return core.shas.flatMap((sha, e) => (ready.has(sha) ? [e] : []));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
