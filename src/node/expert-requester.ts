import { SITE_MANIFEST_PATH } from "../core/experts/host/index.ts";
import { type ExpertLink, MemoryExpertHub, meshExpertLink } from "../core/experts/link/index.ts";
import { fetchManifest, manifestSource, type ModelSource } from "../core/experts/models/index.ts";
import {
  ExpertRouter,
  keepExpertLinks,
  type ClassifyResult,
  type ExpertLinks,
  type RouterProgress,
  type RunModelResult,
  type TestFirstBatchTo,
} from "../core/experts/router/index.ts";
import { sha256Hex } from "../core/base/digest.ts";
import type { Swarm } from "../core/net/swarm.ts";
import type { ModelVariant } from "../core/protocol/manifest.ts";
import { nodeSessionRunner } from "./node-session-runner.ts";

export interface NodeExpertRequesterOptions {
  /** The server's origin: its manifest and model files are fetched from there, as a tab fetches them. */
  readonly server: string;
  /** The Node peer whose mesh carries the requests (a NodeRequester's swarm, or its own); null: no swarm
   *  (not joined): every row is computed here. */
  readonly swarm: Swarm | null;
  /** Where the verified model bytes this requester computes with are kept between runs. */
  readonly modelCacheDir: string;
  /** The mixture's variant (the tab's default, int8). */
  readonly variant?: ModelVariant;
  /** ORT intra-op threads per local session (default 1: the server's solves share the cores). */
  readonly threads?: number;
  /** How long a batch waits for a volunteer still loading its expert before it is computed here. */
  readonly hostWaitMs?: number;
}

export interface ExpertJobOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RouterProgress) => void;
}

/** How long a job waits for the volunteers just offered to answer their probe (placement needs them). */
const PROBE_WAIT_MS = 3_000;

/**
 * The swarm mixture-of-experts requester on a Node peer (the server's classify and onnx jobs): the tab's
 * ExpertRouter, unchanged (routing by the gate, canaries, adaptive replication, bans, local fallback), with
 * what a tab gives it swapped for Node's: the mesh's ExpertLink, onnxruntime-node as its own runner
 * (node-session-runner.ts), the gate and experts of the manifest the server serves (fetched from the
 * origin, as a tab and a Node host fetch it), and the overlay that recruits expert hosts
 * (core experts/router/expert-links.ts). Unlike a tab it hosts nothing itself, so it never offers its own
 * id as a volunteer. Without a swarm its link reaches nobody (an in-memory hub with no other member) and
 * every row is computed here, by the router's own fallback.
 */
export class NodeExpertRequester {
  #closed = false;
  readonly #links: ExpertLinks | null;
  readonly #offs: (() => void)[] = [];

  private constructor(
    readonly router: ExpertRouter,
    private readonly link: ExpertLink,
    swarm: Swarm | null,
  ) {
    this.#links = swarm ? keepExpertLinks(swarm, { wantsHosts: true, router }) : null;
    if (swarm) {
      // A peer whose link opens may host experts (it announces so): offer it placement at once.
      this.#offs.push(
        swarm.mesh.on("peer-open", () => this.#offer()),
        swarm.mesh.on("peer-close", () => this.#offer()),
      );
    }
    router.prefetch(this.#volunteers());
    this.#links?.check();
  }

  static async start(options: NodeExpertRequesterOptions): Promise<NodeExpertRequester> {
    const manifestUrl = new URL(SITE_MANIFEST_PATH, options.server).href;
    const fetched = await fetchManifest(manifestUrl, (url) => fetch(url));
    const variant = options.variant ?? "int8";
    const link = options.swarm ? meshExpertLink(options.swarm.mesh) : new MemoryExpertHub().link("server");
    const router = new ExpertRouter({
      link,
      local: nodeSessionRunner({
        modelCacheDir: options.modelCacheDir,
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
      }),
      gate: manifestSource(fetched, "gate", variant),
      experts: Array.from({ length: fetched.manifest.experts }, (_, e) =>
        manifestSource(fetched, `expert-${e}`, variant),
      ),
      classes: fetched.manifest.classes.length,
      warmWaitMs: options.hostWaitMs ?? 15_000,
    });
    try {
      await router.init();
    } catch (error) {
      router.close();
      link.close();
      throw error;
    }
    return new NodeExpertRequester(router, link, options.swarm);
  }

  /**
   * Classifies `rows` images (row-major float32, 784 values of pixel/255 each). `testFirstBatchTo`: TEST
   * ONLY (ClassifyOptions.testFirstBatchTo), the hosts the job's first batches must go to.
   */
  async classify(
    pixels: Float32Array,
    rows: number,
    options: ExpertJobOptions & { readonly testFirstBatchTo?: TestFirstBatchTo } = {},
  ): Promise<ClassifyResult> {
    await this.#ready(options.signal);
    return this.router.classify(pixels, rows, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.testFirstBatchTo ? { testFirstBatchTo: options.testFirstBatchTo } : {}),
    });
  }

  /** Runs an uploaded ONNX model (its bytes) on `rows` inputs, sharded across the volunteers that load it. */
  async runModel(
    model: Uint8Array,
    input: Float32Array,
    rows: number,
    options: ExpertJobOptions = {},
  ): Promise<RunModelResult> {
    const source: ModelSource = {
      kind: "bytes",
      sha256: await sha256Hex(model),
      bytes: model,
      label: "upload",
    };
    await this.#ready(options.signal);
    return this.router.runModel(source, input, rows, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    this.#links?.close();
    this.router.close();
    this.link.close();
  }

  /** Before a job: the volunteers linked now are offered placement, and their probes waited for (bounded),
   *  so the job knows who hosts what; a batch then waits for a host still loading (warmWaitMs). */
  async #ready(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    this.#links?.check();
    this.#offer();
    await this.router.waitForProbes(PROBE_WAIT_MS);
    signal?.throwIfAborted();
  }

  #offer(): void {
    if (!this.#closed) this.router.setVolunteers(this.#volunteers());
  }

  /** Linked peers, without this one: it runs no expert host, so its own id would never answer a probe. */
  #volunteers(): string[] {
    return this.link.connectedPeerIds().filter((id) => id !== this.link.selfId);
  }
}
