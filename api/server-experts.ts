import path from "node:path";
import type { Logger } from "pino";
import type {
  ClassifyResult,
  RouterStatsSnapshot,
  RunModelResult,
  TestFirstBatchTo,
} from "../src/core/experts/router/index.ts";
import type { Swarm } from "../src/core/net/swarm.ts";
import { ExpertError } from "../src/core/experts/models/index.ts";
import type { NodeExpertRequester } from "../src/node/expert-requester.ts";
import type { ExpertJobControl, ExpertJobs } from "./jobs/expert-jobs.ts";
import type { SwarmSettings } from "./swarm-config.ts";
import type { ServerSwarm } from "./swarm-requester.ts";

export interface ServerExpertsDeps {
  /** The server's swarm requester (api/swarm-requester.ts), whose peer the experts' requests ride on; null
   *  when the swarm is off (API_SWARM=0): every row is computed on the server. */
  readonly swarm: ServerSwarm | null;
  readonly settings: Pick<SwarmSettings, "dataDir">;
  /** The server's own origin (where its manifest and model files are fetched, and its swarm joined), once
   *  a request told it (api/own-origin.ts); null before. */
  readonly origin: () => string | null;
  readonly logger: Logger;
}

/** TEST ONLY (ClassifyOptions.testFirstBatchTo): the hosts a classify job's first batches must go to. */
export interface TestOnlyControl {
  readonly testFirstBatchTo?: TestFirstBatchTo;
}

/**
 * The REST jobs' classify and onnx kinds on the server (api/jobs/expert-jobs.ts): a NodeExpertRequester
 * (src/node/expert-requester.ts, the tab's ExpertRouter with its verification unchanged) made at the first
 * job, on the peer of the server's solve requester (ServerSwarm's lazy join, shared rather than a second
 * peer: one directory entry and one identity for the server, and one link to a volunteer that both solves
 * and hosts experts instead of two against its link cap; the solve recruiter and the experts' overlay hold
 * their links under different holders, so neither releases the other's). When the swarm is off or cannot
 * be joined, the requester runs without peers: the router's fallback computes every row here, and a later
 * job tries the swarm again (jobs already running keep their requester).
 */
export class ServerExperts implements ExpertJobs {
  /** Requesters by the swarm they run on (null: none), made once each; all closed at close(). */
  readonly #made = new Map<Swarm | null, Promise<NodeExpertRequester>>();
  /** The requester the last job ran on (its router's stats are the experts' part of the swarm status). */
  #latest: NodeExpertRequester | null = null;
  #closed = false;

  constructor(private readonly deps: ServerExpertsDeps) {}

  /** The router of the last job's requester: hosts, their trust and bans, rows by source (null before any
   *  job). */
  stats(): RouterStatsSnapshot | null {
    return this.#latest?.router.stats() ?? null;
  }

  async classify(
    pixels: Float32Array,
    rows: number,
    control: ExpertJobControl & TestOnlyControl,
  ): Promise<ClassifyResult> {
    const requester = await this.#requester(control.signal);
    this.#latest = requester;
    return requester.classify(pixels, rows, control);
  }

  async runModel(
    model: Uint8Array,
    input: Float32Array,
    rows: number,
    control: ExpertJobControl,
  ): Promise<RunModelResult> {
    const requester = await this.#requester(control.signal);
    this.#latest = requester;
    return requester.runModel(model, input, rows, control);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const made = [...this.#made.values()];
    this.#made.clear();
    this.#latest = null;
    for (const settled of await Promise.allSettled(made)) {
      if (settled.status === "fulfilled") settled.value.close();
    }
  }

  async #requester(signal: AbortSignal): Promise<NodeExpertRequester> {
    signal.throwIfAborted();
    if (this.#closed) throw new ExpertError("unavailable", "the server is shutting down");
    const origin = this.deps.origin();
    if (origin === null) throw new ExpertError("unavailable", "the server does not know its own address yet");
    const peer = this.deps.swarm ? await this.deps.swarm.requester(origin) : null;
    signal.throwIfAborted();
    const swarm = peer?.swarm ?? null;
    let made = this.#made.get(swarm);
    if (!made) {
      made = this.#start(origin, swarm);
      this.#made.set(swarm, made);
      // A failed start (no manifest, models unreadable) is tried again by the next job.
      made.catch(() => this.#made.get(swarm) === made && this.#made.delete(swarm));
    }
    return made;
  }

  async #start(origin: string, swarm: Swarm | null): Promise<NodeExpertRequester> {
    // Loaded here, not at the top: onnxruntime-node is a native module a solve-only server never needs.
    const { NodeExpertRequester } = await import("../src/node/expert-requester.ts");
    const requester = await NodeExpertRequester.start({
      server: origin,
      swarm,
      modelCacheDir: path.join(this.deps.settings.dataDir, "expert-models"),
    });
    if (this.#closed) {
      requester.close();
      throw new ExpertError("unavailable", "the server is shutting down");
    }
    this.deps.logger.info(
      { event: "api_experts_ready", peer: swarm?.identity.peerId ?? null },
      swarm
        ? "the API's expert requester is ready: classify and onnx jobs go to expert hosts when any are online"
        : "the API's expert requester runs without the swarm: classify and onnx jobs compute on the server",
    );
    return requester;
  }
}
