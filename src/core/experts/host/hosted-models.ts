import { BlobCache, BlobCacheCleared, BlobWaitTimeout } from "../../base/blob-cache.ts";
import type { NowMs } from "../../base/clock.ts";
import { ExpertError, type LoadedModel, type ModelSource } from "../models/runner.ts";
import { checkGraphBudget, type GraphBudget } from "../models/graph/index.ts";
import {
  XP_LOAD_FAILURE_CODES,
  type XpHostModel,
  type XpHostRequest,
  type XpHosting,
  type XpLoadFailureCode,
} from "../../protocol/experts.ts";
import { TimeLimitExceeded, withTimeLimit } from "./time-limit.ts";
import type { HostRunner } from "./types.ts";
import { modelLabel } from "./batch-log.ts";

/**
 * The models a host serves, and for whom. A host-request is declarative (the full set for its requester):
 * it loads what it names (a manifest entry fetched by URL, or bytes the requester sent as a blob; the runner
 * checks the digest either way), and what no requester claims any more is unloaded. Model bytes wait in a
 * blob cache for the host-request naming them: bounded in bytes, and forgotten after blobWaitMs.
 *
 * What a requester may make this tab run: the site's own models (by digest: named by file, or sent as
 * bytes that are one of them, then loaded from the site's copy) on the shared runner; any other model only
 * when the host's person enabled it (allowNonManifest) or when it comes from this tab itself (the loopback:
 * a model its person uploaded), and then only after its graph passed the budget (models/graph: sizes
 * inferred before any runtime sees it) and on a runner of its own (its own worker: a timeout terminates it
 * without touching the others). Every load has a time limit; every refusal is counted by code.
 */
export interface HostedModelsOptions {
  readonly runner: HostRunner;
  readonly resolveManifest: (sha256: string, file: string) => ModelSource | undefined;
  /** The site's model with this digest (a blob that is one is loaded from the site's copy). */
  readonly manifestByDigest: (sha256: string) => ModelSource | undefined;
  /** Read at each host-request: the host's person may switch it any time. */
  readonly allowNonManifest: () => boolean;
  /** This tab's own peer id: its own requests (the loopback: a model its person uploaded) need no switch,
   *  only the budget and a worker of their own. */
  readonly selfId: string;
  /** A runner of its own for one non-manifest model (null: the shared runner). */
  readonly isolatedRunner: (() => HostRunner) | null;
  readonly graphBudget: GraphBudget;
  readonly loadTimeoutMs: number;
  readonly maxModelsPerRequester: number;
  readonly blobWaitMs: number;
  readonly maxPendingBlobBytes: number;
  readonly nowMs: NowMs;
  /** Models were dropped outside a host-request (a time limit): requesters must be told. */
  readonly onDropped: () => void;
}

/** A model loaded here, the runner it lives on, and how many rows one request may carry. */
export interface HostedModel {
  readonly info: LoadedModel;
  readonly runner: HostRunner;
  /** Rows per request within the graph budget (non-manifest models); Infinity for the site's. */
  readonly maxRows: number;
  readonly manifest: boolean;
  /** Its name in this host's log (batch-log.ts). */
  readonly label: string;
}

/** null when the model is loaded, else why not. */
type LoadOutcome = { readonly code: XpLoadFailureCode; readonly message: string } | null;

const LOAD_CODES: ReadonlySet<string> = new Set(XP_LOAD_FAILURE_CODES);

export class HostedModels {
  /** The digests each requester's last host-request got loaded. */
  readonly #claims = new Map<string, Set<string>>();
  readonly #loaded = new Map<string, HostedModel>();
  readonly #loading = new Map<string, Promise<HostedModel>>();
  /** Models a host-request is loading, by how many: another requester's release must not unload them. */
  readonly #reserved = new Map<string, number>();
  readonly #blobs: BlobCache;
  readonly #failures: Partial<Record<XpLoadFailureCode, number>> = {};
  #closed = false;

  constructor(private readonly o: HostedModelsOptions) {
    this.#blobs = new BlobCache(o.maxPendingBlobBytes, { maxAgeMs: o.blobWaitMs, nowMs: o.nowMs });
  }

  /** A model loaded here, or undefined. */
  get(sha256: string): HostedModel | undefined {
    return this.#loaded.get(sha256);
  }

  get hosted(): string[] {
    return [...this.#loaded.keys()];
  }

  /** Requesters that hold models here. */
  get requesters(): string[] {
    return [...this.#claims.keys()];
  }

  claimedBy(requester: string): string[] {
    return [...(this.#claims.get(requester) ?? [])];
  }

  get loadFailures(): number {
    return Object.values(this.#failures).reduce((a, b) => a + (b ?? 0), 0);
  }

  /** Load failures and refusals by code (model_over_budget, not_in_manifest, timeout, ...). */
  get failuresByCode(): Partial<Record<XpLoadFailureCode, number>> {
    return { ...this.#failures };
  }

  /** A requester sent a model's bytes: for its host-request, waiting or still to come. */
  bytesArrived(sha256: string, bytes: Uint8Array): void {
    if (!this.#closed) this.#blobs.put(sha256, bytes);
  }

  /** Carries out a host-request: the models that could not be loaded, and why (null when the host closed
   *  meanwhile: nothing changed). Each model is claimed for the requester as soon as it is loaded, and
   *  `onLoaded` told, so the requester can send it rows while the others still load (pipelined: a host
   *  loading 5 experts serves the first one seconds before the last). */
  async host(
    from: string,
    request: XpHostRequest,
    onLoaded: (sha256: string) => void = () => undefined,
  ): Promise<XpHosting["failed"] | null> {
    const failed: XpHosting["failed"] = [];
    const wanted = request.models.slice(0, this.o.maxModelsPerRequester);
    for (const extra of request.models.slice(this.o.maxModelsPerRequester)) {
      failed.push({
        sha256: extra.sha256,
        code: "too_many_models",
        message: `a host serves at most ${this.o.maxModelsPerRequester} models per requester`,
      });
    }
    for (const model of wanted) this.#reserved.set(model.sha256, (this.#reserved.get(model.sha256) ?? 0) + 1);
    let outcomes: LoadOutcome[];
    try {
      outcomes = await Promise.all(
        wanted.map(async (model) => {
          const outcome = await this.#loadOne(from, model);
          if (outcome === null && !this.#closed) {
            const claims = this.#claims.get(from) ?? new Set<string>();
            this.#claims.set(from, claims);
            if (!claims.has(model.sha256)) {
              claims.add(model.sha256);
              onLoaded(model.sha256);
            }
          }
          return outcome;
        }),
      );
    } finally {
      for (const model of wanted) {
        const n = (this.#reserved.get(model.sha256) ?? 1) - 1;
        if (n > 0) this.#reserved.set(model.sha256, n);
        else this.#reserved.delete(model.sha256);
      }
    }
    if (this.#closed) return null;
    const hosted = new Set<string>();
    outcomes.forEach((outcome, i) => {
      if (outcome === null) hosted.add(wanted[i]!.sha256);
      else failed.push({ sha256: wanted[i]!.sha256, ...outcome });
    });
    for (const f of failed) this.#failures[f.code] = (this.#failures[f.code] ?? 0) + 1;
    if (hosted.size > 0) this.#claims.set(from, hosted);
    else this.#claims.delete(from);
    await this.unloadUnclaimed();
    return failed;
  }

  /** The requester left: its claims go (unloadUnclaimed then frees what nobody else holds). False when it
   *  held nothing here. */
  release(requester: string): boolean {
    return this.#claims.delete(requester);
  }

  /** Drops every model that is not the site's own (the host's person switched them off); true when some
   *  were hosted. */
  async dropNonManifest(): Promise<boolean> {
    const drop = this.hosted.filter((sha) => !this.#loaded.get(sha)!.manifest);
    for (const sha of drop) this.#forget(sha);
    await this.unloadUnclaimed();
    return drop.length > 0;
  }

  /** A run of `sha256` passed its time limit: the model goes, and its runner's worker with it (the shared
   *  runner's, when that is where it ran: every model on it goes). Requesters are told (onDropped). */
  runTimedOut(sha256: string): void {
    const model = this.#loaded.get(sha256);
    if (!model) return;
    if (model.runner === this.o.runner && model.runner.dispose) {
      for (const [sha, m] of this.#loaded) if (m.runner === model.runner) this.#forget(sha);
      model.runner.dispose();
    } else {
      this.#forget(sha256);
      if (model.runner !== this.o.runner) model.runner.dispose?.();
      // A runner that cannot be stopped (in-process) unloads once its run ends: runs are serialized.
      else void model.runner.unload(sha256).catch(() => undefined);
    }
    this.o.onDropped();
  }

  async unloadUnclaimed(): Promise<void> {
    const claimed = new Set<string>();
    for (const set of this.#claims.values()) for (const sha of set) claimed.add(sha);
    const drop = this.hosted.filter(
      (sha) => !claimed.has(sha) && !this.#loading.has(sha) && !this.#reserved.has(sha),
    );
    const models = drop.map((sha) => [sha, this.#loaded.get(sha)!] as const);
    for (const sha of drop) this.#loaded.delete(sha);
    await Promise.all(models.map(([sha, m]) => this.#unload(sha, m)));
  }

  /** Drops every claim, held bytes and model; host-requests still waiting for bytes end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#blobs.clear();
    this.#claims.clear();
    const models = [...this.#loaded];
    this.#loaded.clear();
    await Promise.all(models.map(([sha, m]) => this.#unload(sha, m)));
  }

  #forget(sha256: string): void {
    this.#loaded.delete(sha256);
    for (const [requester, set] of this.#claims) {
      set.delete(sha256);
      if (set.size === 0) this.#claims.delete(requester);
    }
  }

  async #unload(sha256: string, model: HostedModel): Promise<void> {
    if (model.runner !== this.o.runner) return model.runner.dispose?.();
    await model.runner.unload(sha256).catch(() => undefined);
  }

  async #loadOne(from: string, model: XpHostModel): Promise<LoadOutcome> {
    if (this.#loaded.has(model.sha256)) return null;
    let source: ModelSource | undefined =
      model.source === "blob" ? this.o.manifestByDigest(model.sha256) : undefined;
    const trusted = model.source === "manifest" || source !== undefined;
    if (model.source === "manifest") {
      source = this.o.resolveManifest(model.sha256, model.file);
      if (!source || (source.kind === "manifest" && source.entry.sha256 !== model.sha256)) {
        return {
          code: "not_in_manifest",
          message: `${model.file} (${model.sha256.slice(0, 12)}) is not offered here`,
        };
      }
    } else if (!trusted && !this.o.allowNonManifest() && from !== this.o.selfId) {
      return {
        code: "not_in_manifest",
        message:
          `${model.label.slice(0, 60)} is not one of this site's models, and this host's person has not ` +
          `enabled hosting other models`,
      };
    }
    try {
      let loading = this.#loading.get(model.sha256);
      if (!loading) {
        if (!source) {
          const bytes = await this.#bytesOf(model.sha256);
          if (!bytes) {
            return {
              code: "blob_missing",
              message: `the model's bytes did not arrive within ${this.o.blobWaitMs} ms`,
            };
          }
          source = {
            kind: "bytes",
            sha256: model.sha256,
            bytes,
            label: model.source === "blob" ? model.label : "",
          };
        }
        // Another host-request may have started it while the bytes were awaited.
        loading = this.#loading.get(model.sha256) ?? this.#start(source, trusted);
        this.#loading.set(model.sha256, loading);
      }
      const hosted = await loading.finally(() => this.#loading.delete(model.sha256));
      if (hosted.info.inputCols <= 0 || hosted.info.outputCols <= 0) {
        await this.#unload(model.sha256, hosted);
        return { code: "corrupt_model", message: "the model's input or output width is not fixed" };
      }
      this.#loaded.set(model.sha256, hosted);
      this.#blobs.delete(model.sha256);
      return null;
    } catch (error) {
      const code = error instanceof ExpertError && LOAD_CODES.has(error.code) ? error.code : "runtime_failed";
      return { code, message: String(error instanceof Error ? error.message : error).slice(0, 400) };
    }
  }

  /** Budget check (a model that is not the site's), then the load on its runner, within the time limit. */
  async #start(source: ModelSource, trusted: boolean): Promise<HostedModel> {
    let maxRows = Infinity;
    if (!trusted && source.kind === "bytes") {
      maxRows = checkGraphBudget(source.bytes, this.o.graphBudget).maxRows; // throws model_over_budget
    }
    const runner = trusted ? this.o.runner : (this.o.isolatedRunner?.() ?? this.o.runner);
    try {
      const info = await withTimeLimit(
        runner.load(source),
        this.o.loadTimeoutMs,
        `loading the model took longer than this host's limit of ${this.o.loadTimeoutMs} ms: stopped`,
      );
      return { info, runner, maxRows, manifest: trusted, label: modelLabel(source) };
    } catch (error) {
      if (runner !== this.o.runner) runner.dispose?.();
      if (error instanceof TimeLimitExceeded) {
        if (runner === this.o.runner && runner.dispose) {
          for (const [sha, m] of this.#loaded) if (m.runner === runner) this.#forget(sha);
          runner.dispose();
          this.o.onDropped();
        }
        throw new ExpertError("timeout", error.message);
      }
      throw error;
    }
  }

  /** The model's bytes: held already, or once they arrive (null after blobWaitMs, or when closing). Bytes
   *  that reach a host-request already waiting are its own: they are not held for another. */
  async #bytesOf(sha256: string): Promise<Uint8Array | null> {
    const held = this.#blobs.get(sha256);
    if (held) return held;
    try {
      const bytes = await this.#blobs.waitFor(sha256, this.o.blobWaitMs);
      this.#blobs.delete(sha256);
      return bytes;
    } catch (error) {
      if (error instanceof BlobWaitTimeout || error instanceof BlobCacheCleared) return null;
      throw error;
    }
  }
}
