import type { NowMs } from "../../base/clock.ts";
import type { ExpertLink } from "../link/expert-link.ts";
import type { GraphBudget } from "../models/graph/index.ts";
import type { ModelRunner, ModelSource } from "../models/runner.ts";
import type { XpHosting, XpInferErrorCode, XpLoadFailureCode } from "../../protocol/experts.ts";
import type { ExpertHostFault, HostFaultSnapshot } from "./host-fault.ts";
import type { HostBatchEntry } from "./batch-log.ts";

/** Why a request was answered `busy`: its requester's own cap, or the host's total. */
export interface BusyCounts {
  readonly requesterCap: number;
  readonly hostCap: number;
}

/** A runner the host can end: `dispose` terminates its worker (and every session in it). One without
 *  `dispose` (in-process, e.g. onnxruntime-node) cannot be stopped: past a time limit the host stops
 *  waiting for it and drops the model. */
export interface HostRunner extends ModelRunner {
  dispose?(): void;
}

// The expert host's public vocabulary: options, stats, events (see host.ts).

export interface ExpertHostOptions {
  readonly link: ExpertLink;
  /** The runner of the site's own models (a worker kept for them). */
  readonly runner: HostRunner;
  /** The source of a model from the site's manifest, by digest (and the file the requester named);
   *  undefined when this host does not offer it. */
  readonly resolveManifest: (sha256: string, file: string) => ModelSource | undefined;
  /** The site's model with this digest, if any: a blob with that digest is loaded from it (the site's copy,
   *  not the requester's bytes, and like the manifest's); default none. */
  readonly manifestByDigest?: (sha256: string) => ModelSource | undefined;
  /** Host models that are not the site's own (default false: only the host's person may enable it; see
   *  ExpertHost.setAllowNonManifest). Such a model is checked against `graphBudget` before loading. */
  readonly allowNonManifest?: boolean;
  /** A fresh runner (its own worker) for each non-manifest model; default: the shared runner. */
  readonly isolatedRunner?: () => HostRunner;
  readonly graphBudget?: GraphBudget;
  /** Time limit of one model load (a download included); past it the load fails `timeout`. */
  readonly loadTimeoutMs?: number;
  /** Time limit of one run; past it the request is answered `timeout` and the model dropped. */
  readonly runTimeoutMs?: number;
  /** Queued infer-requests of one requester beyond which its new ones get `busy` (announced in
   *  `hosting`). */
  readonly maxQueuedRequests?: number;
  /** Queued infer-requests of all requesters together. */
  readonly maxQueuedTotal?: number;
  readonly maxQueuedRows?: number;
  /** Models hosted for one requester. */
  readonly maxModelsPerRequester?: number;
  /** How long a host-request waits for a model's bytes to arrive as a blob. */
  readonly blobWaitMs?: number;
  /** Model bytes held while waiting for their host-request (oldest dropped first). */
  readonly maxPendingBlobBytes?: number;
  /** TEST ONLY: a misbehaving host (host-fault.ts; none by default). */
  readonly fault?: ExpertHostFault;
  /** How old held model bytes are; default the real clock (base/clock.ts). */
  readonly nowMs?: NowMs;
}

export interface ExpertHostStats {
  readonly hosted: readonly string[];
  readonly requesters: number;
  readonly paused: boolean;
  readonly closed: boolean;
  readonly queuedRequests: number;
  readonly queuedRows: number;
  readonly batchesServed: number;
  readonly rowsServed: number;
  /** Time spent inside runner.run. */
  readonly busyMs: number;
  readonly errorsSent: Readonly<Partial<Record<XpInferErrorCode, number>>>;
  /** `busy` answers by cause: a requester's own queue cap, or the host's total. */
  readonly busyRefusals: BusyCounts;
  readonly loadFailures: number;
  /** Models not hosted, by code (model_over_budget, not_in_manifest, timeout, ...). */
  readonly loadFailuresByCode: Readonly<Partial<Record<XpLoadFailureCode, number>>>;
  /** Whether models that are not the site's own are hosted (the host's person's switch). */
  readonly allowNonManifest: boolean;
  /** TEST ONLY: what the injected fault did (host-fault.ts); null on every real host. */
  readonly fault: HostFaultSnapshot | null;
  /** The batches run here, newest first (bounded, batch-log.ts). */
  readonly log: readonly HostBatchEntry[];
  /** batch-verdicts that matched no batch this host sent their sender (counted, then dropped). */
  readonly verdictsIgnored: number;
  /** batch-verdicts dropped over a requester's rate (verdict-intake.ts). */
  readonly verdictsOverRate: number;
}

export interface ExpertHostEvents {
  stats: ExpertHostStats;
  /** A host-request was answered. */
  hosting: { readonly requester: string; readonly hosting: XpHosting };
}
