import { BlobCache, BlobCacheCleared, BlobWaitTimeout } from "../../base/blob-cache.ts";
import type { NowMs } from "../../base/clock.ts";
import { ExpertError, type LoadedModel, type ModelRunner, type ModelSource } from "../models/runner.ts";
import {
  XP_LOAD_FAILURE_CODES,
  type XpHostModel,
  type XpHostRequest,
  type XpHosting,
  type XpLoadFailureCode,
} from "../../protocol/experts.ts";

/**
 * The models a host serves, and for whom. A host-request is declarative (the full set for its requester):
 * it loads what it names through the ModelRunner (a manifest entry fetched by URL, or bytes the requester
 * sent as a blob; the runner checks the digest either way), and what no requester claims any more is
 * unloaded. Model bytes wait in a blob cache for the host-request naming them: bounded in bytes, and
 * forgotten after blobWaitMs.
 */
export interface HostedModelsOptions {
  readonly runner: ModelRunner;
  readonly resolveManifest: (sha256: string, file: string) => ModelSource | undefined;
  readonly maxModelsPerRequester: number;
  readonly blobWaitMs: number;
  readonly maxPendingBlobBytes: number;
  readonly nowMs: NowMs;
}

/** null when the model is loaded, else why not. */
type LoadOutcome = { readonly code: XpLoadFailureCode; readonly message: string } | null;

const LOAD_CODES: ReadonlySet<string> = new Set(XP_LOAD_FAILURE_CODES);

export class HostedModels {
  /** The digests each requester's last host-request got loaded. */
  readonly #claims = new Map<string, Set<string>>();
  readonly #loaded = new Map<string, LoadedModel>();
  readonly #loading = new Map<string, Promise<LoadedModel>>();
  /** Models a host-request is loading, by how many: another requester's release must not unload them. */
  readonly #reserved = new Map<string, number>();
  readonly #blobs: BlobCache;
  #loadFailures = 0;
  #closed = false;

  constructor(private readonly o: HostedModelsOptions) {
    this.#blobs = new BlobCache(o.maxPendingBlobBytes, { maxAgeMs: o.blobWaitMs, nowMs: o.nowMs });
  }

  /** A model loaded here, or undefined. */
  get(sha256: string): LoadedModel | undefined {
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
    return this.#loadFailures;
  }

  /** A requester sent a model's bytes: for its host-request, waiting or still to come. */
  bytesArrived(sha256: string, bytes: Uint8Array): void {
    if (!this.#closed) this.#blobs.put(sha256, bytes);
  }

  /** Carries out a host-request: the models that could not be loaded, and why (null when the host closed
   *  meanwhile: nothing changed). */
  async host(from: string, request: XpHostRequest): Promise<XpHosting["failed"] | null> {
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
      outcomes = await Promise.all(wanted.map((model) => this.#loadOne(model)));
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
    this.#loadFailures += failed.length;
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

  async unloadUnclaimed(): Promise<void> {
    const claimed = new Set<string>();
    for (const set of this.#claims.values()) for (const sha of set) claimed.add(sha);
    const drop = this.hosted.filter(
      (sha) => !claimed.has(sha) && !this.#loading.has(sha) && !this.#reserved.has(sha),
    );
    for (const sha of drop) this.#loaded.delete(sha);
    await Promise.all(drop.map((sha) => this.o.runner.unload(sha).catch(() => undefined)));
  }

  /** Drops every claim, held bytes and model; host-requests still waiting for bytes end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#blobs.clear();
    this.#claims.clear();
    const models = this.hosted;
    this.#loaded.clear();
    await Promise.all(models.map((sha) => this.o.runner.unload(sha).catch(() => undefined)));
  }

  async #loadOne(model: XpHostModel): Promise<LoadOutcome> {
    let source: ModelSource | undefined;
    if (model.source === "manifest") {
      source = this.o.resolveManifest(model.sha256, model.file);
      if (!source || (source.kind === "manifest" && source.entry.sha256 !== model.sha256)) {
        return {
          code: "not_in_manifest",
          message: `${model.file} (${model.sha256.slice(0, 12)}) is not offered here`,
        };
      }
    } else if (!this.#loaded.has(model.sha256)) {
      const bytes = await this.#bytesOf(model.sha256);
      if (!bytes) {
        return {
          code: "blob_missing",
          message: `the model's bytes did not arrive within ${this.o.blobWaitMs} ms`,
        };
      }
      source = { kind: "bytes", sha256: model.sha256, bytes, label: model.label };
    }
    try {
      if (!this.#loaded.has(model.sha256)) {
        let loading = this.#loading.get(model.sha256);
        if (!loading && source) {
          loading = this.o.runner.load(source);
          this.#loading.set(model.sha256, loading);
        }
        const info = await loading!.finally(() => this.#loading.delete(model.sha256));
        if (info.inputCols <= 0 || info.outputCols <= 0) {
          return { code: "corrupt_model", message: "the model's input or output width is not fixed" };
        }
        this.#loaded.set(model.sha256, info);
        this.#blobs.delete(model.sha256);
      }
      return null;
    } catch (error) {
      const code = error instanceof ExpertError && LOAD_CODES.has(error.code) ? error.code : "runtime_failed";
      return { code, message: String(error instanceof Error ? error.message : error).slice(0, 400) };
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
