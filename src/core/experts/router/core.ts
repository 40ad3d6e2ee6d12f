import { ReputationBook, type ReputationRecord } from "../../trust/reputation.ts";
import { realNowMs } from "../../base/clock.ts";
import { Emitter } from "../../base/emitter.ts";
import { RemoteCalls } from "./dispatch/calls.ts";
import { HostRegistry, type HostEntry } from "./dispatch/hosts.ts";
import type { Job, JobModel } from "./jobs/job.ts";
import { LocalModels } from "./dispatch/local.ts";
import { PlacementKeeper } from "./placement.ts";
import type {
  ClassifyResult,
  ExpertHostRecord,
  ExpertRouterOptions,
  RouterEvents,
  RouterTotals,
  RunModelResult,
} from "./types.ts";
import { toleranceForSource } from "./verification/tolerance.ts";
import { sourceDigest } from "../models/model-bytes.ts";
import { ExpertError } from "../models/runner.ts";

/** The router's options with every default filled in. */
export type RouterSettings = Required<
  Omit<ExpertRouterOptions, "reputation" | "gate" | "experts" | "hostRecords" | "onHostRecords">
>;

/** A finished job the router keeps (the newest keepFinishedJobs), so that what a host banned later gave it
 *  is recomputed and its result revised (row-ledger.ts). */
export interface FinishedJob {
  readonly job: Job;
  readonly assemble: () => ClassifyResult | RunModelResult;
  readonly revisedBy: Set<string>;
  rowsRevised: number;
}

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
  /** The newest finished jobs, oldest first (their results are revised when a host they used is banned). */
  readonly finished: FinishedJob[];
  /** When each banned host was banned (the ones restored from storage included). */
  readonly bannedAt: Map<string, number>;
  /** Hands the reputation records and bans that changed to the caller's store (options.onHostRecords). */
  persist(): void;
  readonly totals: { -readonly [K in keyof RouterTotals]: RouterTotals[K] };
  seq: number;
  closed: boolean;
}

/** Fills in the defaults, checks the options, and builds the router's shared state. */
export function createRouterCore(options: ExpertRouterOptions): RouterCore {
  const random = options.random ?? Math.random;
  const nowMs = options.nowMs ?? realNowMs;
  const { gate, experts = [], reputation, hostRecords = [], onHostRecords, ...rest } = options;
  const o: RouterSettings = {
    classes: 10,
    batchRows: 64,
    canariesPerRequest: 4,
    spotCheckFloor: 0.03,
    keepFinishedJobs: 4,
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
    warmWaitMs: 20_000,
    ...rest,
    random,
    nowMs,
  };
  if (gate && experts.length < 1) throw new ExpertError("bad_input", "the router needs at least one expert");
  if (!gate && experts.length > 0)
    throw new ExpertError("bad_input", "experts without a gate cannot be routed");
  if (!(o.canariesPerRequest >= 1) || !(o.spotCheckFloor > 0 && o.spotCheckFloor <= 1)) {
    throw new ExpertError(
      "bad_input",
      `canariesPerRequest must be ≥ 1 and spotCheckFloor in (0, 1]: a host must never go unchecked`,
    );
  }
  if (o.batchRows < 1 || o.batchRows > 4000) {
    throw new ExpertError("bad_input", `batchRows must be 1..4000, got ${o.batchRows}`);
  }
  const book = reputation ?? new ReputationBook(hostRecords.map(reputationOf));
  // Bans already in the caller's store (restored ones): not handed back to it unless they change.
  const persisted = new Set(hostRecords.flatMap((r) => (r.banned === null ? [] : [r.volunteerId])));
  const shas = experts.map(sourceDigest);
  const registry = new HostRegistry({
    maxInFlightPerHost: o.maxInFlightPerHost,
    explore: o.explore,
    suspendAfterTimeouts: o.suspendAfterTimeouts,
    suspendMs: o.suspendMs,
    random,
    nowMs,
  });
  const bannedAt = new Map<string, number>();
  for (const r of hostRecords) {
    if (r.banned === null) continue;
    registry.restoreBan(r.volunteerId, r.banned);
    bannedAt.set(r.volunteerId, r.bannedAtMs ?? 0);
  }
  const calls = new RemoteCalls(o.link, nowMs, random);
  const local = new LocalModels(o.local, gate ?? null, experts, o.classes, o.localChunkRows);
  const expertModels: JobModel[] = shas.map((sha256, e) => ({
    sha256,
    cols: o.classes,
    layout: null,
    label: `expert ${e}`,
    tolerance: toleranceForSource(experts[e]!).tolerance,
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
    (peerId, e) => {
      const entry = registry.get(peerId);
      return entry !== undefined && registry.usable(entry, shas[e]!, nowMs());
    },
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
    finished: [],
    bannedAt,
    persist() {
      const changed = new Map(book.drainChanged().map((r) => [r.volunteerId, r]));
      for (const id of bannedAt.keys()) if (!persisted.has(id)) changed.set(id, book.get(id));
      if (changed.size === 0 || !onHostRecords) return;
      for (const id of changed.keys()) if (bannedAt.has(id)) persisted.add(id);
      onHostRecords(
        [...changed.values()].map((r) => ({
          ...r,
          banned: registry.get(r.volunteerId)?.banned ?? null,
          bannedAtMs: bannedAt.get(r.volunteerId) ?? null,
        })),
      );
    },
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
      warmWaitMs: 0,
      warmWaitEndAtMs: 0,
      remoteBatches: 0,
      qualificationBatches: 0,
      qualificationRows: 0,
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

/** The reputation part of a stored host record. */
function reputationOf(r: ExpertHostRecord): ReputationRecord {
  const { banned: _banned, bannedAtMs: _at, ...rep } = r;
  return rep;
}

/** Keeps a finished job (the newest keepFinishedJobs) for revision if a host it used is banned later. */
export function keepFinished(core: RouterCore, job: Job, assemble: FinishedJob["assemble"]): void {
  core.finished.push({ job, assemble, revisedBy: new Set(), rowsRevised: 0 });
  while (core.finished.length > core.o.keepFinishedJobs) release(core, core.finished.shift()!.job);
}

/** A finished job the router stops keeping: its hosts' rows in it are past revision from now on, and each
 *  host's figures say so (a host banned later still shows those rows accepted, and why). A revision already
 *  under way completes, and takes back what it recomputes (row-ledger.ts). */
function release(core: RouterCore, job: Job): void {
  job.released = true;
  for (const [source, rows] of job.bySource) {
    const entry = source === "local" ? undefined : core.registry.get(source);
    if (entry) entry.stats.rowsPastRevision += rows;
  }
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
