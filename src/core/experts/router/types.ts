import type { NowMs } from "../../base/clock.ts";
import type { ReputationBook, ReputationRecord } from "../../trust/reputation.ts";
import type { ExpertLink } from "../link/expert-link.ts";
import type { HostStatsSnapshot } from "./dispatch/host-stats.ts";
import type { ProviderName } from "./verification/tolerance.ts";
import type { ModelRunner, ModelSource } from "../models/runner.ts";
import type { XpHosting } from "../../protocol/experts.ts";

// The expert router's public vocabulary: options, events, results, the stats snapshot (see router.ts).

export interface ExpertRouterOptions {
  readonly link: ExpertLink;
  /** The requester's own runner: runs the gate, computes canaries, arbitrates disagreements, and serves as
   *  the fallback when no host can. */
  readonly local: ModelRunner;
  /** The mixture's gate; absent for a router that only runs generic jobs (runModel; classify then fails
   *  with ExpertError("unavailable")). */
  readonly gate?: ModelSource;
  /** Expert e's model at index e (at least one with a gate; none without). */
  readonly experts?: readonly ModelSource[];
  /** Width of an expert's output (10 for Fashion-MNIST). */
  readonly classes?: number;
  /** Real rows per remote request (canaries come on top). */
  readonly batchRows?: number;
  /** Canary rows mixed into every request to another tab, at random positions (default 4; at least 1). */
  readonly canariesPerRequest?: number;
  /** Least probability that a trusted host's answer is checked in full by a trusted checker or the
   *  requester (verification/spot-check.ts; default 0.03; (0, 1]). */
  readonly spotCheckFloor?: number;
  /** Finished jobs kept to be revised when a host they used is banned later (default 4). */
  readonly keepFinishedJobs?: number;
  /** Hosts per expert when the swarm allows (placement-plan.ts). */
  readonly replicas?: number;
  readonly maxInFlightPerHost?: number;
  /** Remote tries of one batch (distinct hosts) before it is computed locally. */
  readonly maxRemoteAttempts?: number;
  /** Timeout of a request = clamp(timeoutFactor × host EWMA ms/row × rows, minTimeoutMs, maxTimeoutMs);
   *  firstTimeoutMs while the host is unmeasured (its first run includes session warm-up). */
  readonly minTimeoutMs?: number;
  readonly maxTimeoutMs?: number;
  readonly firstTimeoutMs?: number;
  readonly timeoutFactor?: number;
  /** Consecutive timeouts after which a host is left alone for suspendMs. */
  readonly suspendAfterTimeouts?: number;
  readonly suspendMs?: number;
  /** Probability of sending a batch to a random free host instead of the best-scored one. */
  readonly explore?: number;
  /** Rows per local run (gate, fallback). */
  readonly localChunkRows?: number;
  /** Add a peer that announces itself as a host (ExpertHost.announce) to the volunteers (default true). */
  readonly adoptAnnouncedHosts?: boolean;
  /** How long an offered volunteer that has not announced hosting is waited for after its probe (an empty
   *  host-request): a peer without an expert host never answers, and is not waited on after this. */
  readonly probeGraceMs?: number;
  /** How long a batch whose model no host serves yet waits for a host still loading it (placed there, not
   *  answered yet) before the requester computes it itself (warming.ts; default 20,000). */
  readonly warmWaitMs?: number;
  /** runModel: how long to wait for the volunteers to load the model before starting with those ready. */
  readonly modelHostWaitMs?: number;
  /** Reputation records; a book built from hostRecords when absent. */
  readonly reputation?: ReputationBook;
  /** The hosts' reputation and bans as the caller stored them (state/experts: IndexedDB): a host banned in
   *  an earlier session is banned from the start. */
  readonly hostRecords?: readonly ExpertHostRecord[];
  /** Called with the records that changed (a ban at once, reputation when a job ends), to store them. */
  readonly onHostRecords?: (changed: readonly ExpertHostRecord[]) => void;
  readonly random?: () => number;
  /** Every time the router reads (timeouts, suspensions, probes, round trips, when a liar was caught), in ms
   *  since the epoch; default the real clock (base/clock.ts). */
  readonly nowMs?: NowMs;
}

/** What the requester remembers of an expert host across sessions: its reputation, and its ban. A ban does
 *  not lapse: it follows a proven wrong output, not a statistic. */
export interface ExpertHostRecord extends ReputationRecord {
  readonly banned: string | null;
  readonly bannedAtMs: number | null;
}

export interface ClassifyOptions {
  readonly onProgress?: (progress: RouterProgress) => void;
  /** Aborting stops the job (as RunModelOptions.signal): classify rejects with the signal's reason, no
   *  further batch is sent to a host nor computed here, and answers still in flight are dropped. */
  readonly signal?: AbortSignal;
  /** TEST ONLY (like faults.ts, and reached only through the ?test=1 hook's classifyTestSet(n,
   *  { firstBatchTo })): forces the job's first batches onto named hosts. */
  readonly testFirstBatchTo?: TestFirstBatchTo;
}

/**
 * TEST ONLY: the hosts a classify job's first batches must go to, one batch each. The routing policy alone
 * never guarantees that a given host gets work (a host that joined a moment ago may still be loading its
 * experts when the job starts, and measured hosts win ties), so a test about what one host does with a
 * batch (serves it, dies holding it, lies about it) forces it: the job waits up to `waitMs` until every
 * named host serves an expert that has rows in this job, then sends each of them a batch of such an expert
 * before any other batch is dispatched; retries of those batches, and every other batch, are routed as
 * usual. When a host never serves one, the job fails with ExpertError("timeout") naming it and its placed
 * and ready experts, so a test says which step did not happen.
 */
export interface TestFirstBatchTo {
  readonly peerIds: readonly string[];
  readonly waitMs: number;
}

/** runModel's options. */
export interface RunModelOptions {
  readonly onProgress?: (progress: RouterProgress) => void;
  /** "placing": the volunteers are loading the model (and this tab computes the canaries); "running". */
  readonly onStage?: (stage: "placing" | "running") => void;
  /** Aborting stops the job: runModel rejects with the signal's reason, batches stop where they are, the
   *  volunteers are told to release the model. */
  readonly signal?: AbortSignal;
  /** Rows per remote request (canaries on top); default the router's batchRows, lowered to what one message
   *  carries and to about targetBatchMs of this tab's own computation. */
  readonly batchRows?: number;
  readonly targetBatchMs?: number;
  /** Overrides the router's modelHostWaitMs for this job. */
  readonly hostWaitMs?: number;
}

export interface RunModelResult {
  readonly jobId: string;
  readonly rows: number;
  readonly sha256: string;
  /** Every output of the model by name, each [rows, cols] row-major, in the model's output order. */
  readonly outputs: Readonly<Record<string, { readonly data: Float32Array; readonly cols: number }>>;
  readonly outputNames: readonly string[];
  /** Rows accepted from each host; "local" = computed by the requester (canaries, fallback, arbitration). */
  readonly rowsBySource: Readonly<Record<string, number>>;
  /** Volunteers that could not load the model, and why. */
  readonly hostFailures: readonly {
    readonly peerId: string;
    readonly code: string;
    readonly message: string;
  }[];
  /** Why no row was sent to a volunteer, when none was (null when some were). */
  readonly localOnlyReason: string | null;
  readonly elapsedMs: number;
}

export interface RouterProgress {
  readonly jobId: string;
  /** Rows whose every routed expert output has been accepted. */
  readonly rowsDone: number;
  readonly rows: number;
}

export interface ClassifyResult {
  readonly jobId: string;
  readonly rows: number;
  /** [rows, classes] combined exactly as the whole-graph moe does (combine.ts). */
  readonly logits: Float32Array;
  readonly predictions: Int32Array;
  /** Per expert: rows routed to it (non-zero gate weight) in this job. */
  readonly rowsPerExpert: readonly number[];
  /** Per expert: rows that chose it among their top-k in this job. */
  readonly chosenPerExpert: readonly number[];
  /** Expert rows accepted from each host in this job; "local" = computed by the requester (fallback,
   *  canaries, arbitration). */
  readonly rowsBySource: Readonly<Record<string, number>>;
  readonly gateMs: number;
  readonly elapsedMs: number;
  /** Where the job's time went (ms from the job's start, this router's clock), to see what a first run
   *  pays that a later one does not (bench:experts prints it). */
  readonly timeline: ClassifyTimeline;
}

export interface ClassifyTimeline {
  /** The gate loaded (usually at prefetch) and run on every row. */
  readonly gateDoneMs: number;
  /** Every expert's canaries computed here (the batches start then). */
  readonly canariesDoneMs: number;
  /** Every batch accepted (verified or computed here). */
  readonly batchesDoneMs: number;
  /** Summed over batches: time spent waiting for a host still loading the batch's expert (warming.ts). */
  readonly warmWaitMs: number;
  /** When the last of those waits ended (ms from the job's start; 0 when none waited). */
  readonly warmWaitEndMs: number;
  /** This job's remote answers, and those checked in full by a second computation (verify.ts). */
  readonly remoteBatches: number;
  readonly replicatedBatches: number;
}

export interface RouterEvents {
  progress: RouterProgress;
  /** Something in the stats snapshot changed (cheap: read router.stats() when you need it). */
  stats: null;
  /** A host was caught serving wrong outputs: it gets no more requests. */
  banned: { readonly peerId: string; readonly reason: string };
  /** A finished job held outputs from hosts banned since: they were recomputed here, and this is its new
   *  result (every revision of the job so far: the banned hosts and the rows recomputed in all). */
  revised: {
    readonly jobId: string;
    readonly bannedHosts: readonly string[];
    readonly rowsRecomputed: number;
    readonly result: ClassifyResult | RunModelResult;
  };
  /** A host announced what it serves. */
  hosting: {
    readonly peerId: string;
    readonly experts: readonly number[];
    readonly failed: XpHosting["failed"];
  };
}

export interface RouterHostSnapshot extends HostStatsSnapshot {
  readonly peerId: string;
  readonly provider: ProviderName;
  /** Experts it serves to us now. */
  readonly ready: readonly number[];
  /** Experts placement.ts gave it. */
  readonly placed: readonly number[];
  readonly connected: boolean;
  readonly paused: boolean;
  readonly suspended: boolean;
  readonly banned: string | null;
  readonly trusted: boolean;
  readonly consecutiveValid: number;
  /** Answers of it found valid by a full check, ever (it was trusted once this reached trustAfter). */
  readonly totalValid: number;
  readonly inFlight: number;
  /** Share of all accepted expert rows (requester's own included in the denominator). */
  readonly share: number;
}

export interface RouterExpertSnapshot {
  readonly expert: number;
  readonly sha256: string;
  readonly placedOn: readonly string[];
  readonly readyOn: readonly string[];
  /** Cumulative over jobs: rows routed (the routing histogram), rows choosing it in their top-k. */
  readonly rowsRouted: number;
  readonly rowsChosen: number;
  readonly rowsLocal: number;
}

export interface RouterTotals {
  readonly jobs: number;
  readonly rowsClassified: number;
  readonly expertRows: number;
  readonly remoteRows: number;
  /** Expert rows computed by the requester: fallback + canaries + arbitration. */
  readonly localRows: number;
  readonly fallbackRows: number;
  readonly canaryRows: number;
  readonly arbitrationRows: number;
  readonly canariesSent: number;
  readonly replicatedBatches: number;
  /** Summed over batches: ms spent waiting for a host still loading the batch's model (warming.ts). */
  readonly warmWaitMs: number;
  /** When (router clock) the last wait for a warming host ended. */
  readonly warmWaitEndAtMs: number;
  /** Remote answers that passed their canaries (each is then accepted, or checked in full first). */
  readonly remoteBatches: number;
  readonly disagreements: number;
  readonly retries: number;
  readonly liarsCaught: number;
  /** Rows of answers discarded because their host was caught. */
  readonly rowsDiscarded: number;
  /** Rows accepted from a host before it was caught, recomputed by the requester (part of rowsDiscarded). */
  readonly redoneRows: number;
  readonly lateResults: number;
  /** Batches of sample rows sent to untrusted hosts while no job ran, each checked in full, and their rows
   *  (verification/qualification.ts; not part of any job's counts). */
  readonly qualificationBatches: number;
  readonly qualificationRows: number;
  /** Generic jobs (runModel) and their rows. The other counts above (remote, local, canaries, replication,
   *  liars...) cover the rows of both kinds of job. */
  readonly modelJobs: number;
  readonly modelRows: number;
}

export interface RouterStatsSnapshot {
  readonly localProvider: ProviderName;
  /** Volunteers offered (setVolunteers) or adopted (announced hosting). */
  readonly volunteers: readonly string[];
  /** The volunteers models are placed on: those known to run an expert host (they sent `hosting`). */
  readonly candidates: readonly string[];
  readonly hosts: readonly RouterHostSnapshot[];
  readonly experts: readonly RouterExpertSnapshot[];
  readonly totals: RouterTotals;
  readonly inFlight: number;
  /** Finished jobs the router keeps, newest first, to recompute what a host banned later gave them (older
   *  results stay as delivered: their rows are each host's rowsPastRevision). */
  readonly revisableJobs: number;
}
