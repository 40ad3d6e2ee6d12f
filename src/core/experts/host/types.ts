import type { NowMs } from "../../base/clock.ts";
import type { ExpertLink } from "../link/expert-link.ts";
import type { ModelRunner, ModelSource } from "../models/runner.ts";
import type { XpHosting, XpInferErrorCode } from "../../protocol/experts.ts";
import type { ExpertHostFault, HostFaultSnapshot } from "./host-fault.ts";

// The expert host's public vocabulary: options, stats, events (see host.ts).

export interface ExpertHostOptions {
  readonly link: ExpertLink;
  readonly runner: ModelRunner;
  /** The source of a model from the site's manifest, by digest (and the file the requester named);
   *  undefined when this host does not offer it. */
  readonly resolveManifest: (sha256: string, file: string) => ModelSource | undefined;
  /** Queued infer-requests (all requesters) beyond which new ones get `busy`. */
  readonly maxQueuedRequests?: number;
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
  readonly loadFailures: number;
  /** TEST ONLY: what the injected fault did (host-fault.ts); null on every real host. */
  readonly fault: HostFaultSnapshot | null;
}

export interface ExpertHostEvents {
  stats: ExpertHostStats;
  /** A host-request was answered. */
  hosting: { readonly requester: string; readonly hosting: XpHosting };
}
