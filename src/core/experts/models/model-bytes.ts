import { ExpertError, type ModelSource } from "./runner.ts";
import { sha256Hex } from "../../base/digest.ts";

/**
 * Model bytes by content hash: read from a cache or fetched by URL, ALWAYS digested before use, and put in
 * the cache only after the caller managed to open them (create a session). So bytes that fail the digest
 * or that onnxruntime cannot load never reach the cache, and a cached entry whose digest no longer matches
 * (disk corruption, a tampered store) is deleted and fetched again.
 *
 * Everything environment-specific is injected (fetch, digest, the store), so the same code runs in the
 * expert worker (Cache API) and in Node unit tests.
 */

/** A content-addressed store of model bytes (the Cache API in the worker). */
export interface ModelByteCache {
  get(sha256: string): Promise<Uint8Array | undefined>;
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  delete(sha256: string): Promise<boolean>;
  /** The digests held, in no particular order. */
  list(): Promise<string[]>;
}

export type FetchLike = (url: string, init: { signal: AbortSignal }) => Promise<ResponseLike>;
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface ModelBytesDeps {
  readonly cache: ModelByteCache;
  readonly fetch: FetchLike;
  /** Lower-case hex SHA-256 of the bytes; defaults to crypto.subtle (browser, worker and Node 20). */
  readonly digestHex?: (bytes: Uint8Array) => Promise<string>;
  /** Per model download; default 60 s. */
  readonly fetchTimeoutMs?: number;
  /** Told about things that did not fail the load but should be known (a cache write that failed). */
  readonly onNote?: (note: string) => void;
}

export interface VerifiedModel<T> {
  readonly value: T;
  readonly sha256: string;
  /** True when the bytes came from the cache (no download). */
  readonly fromCache: boolean;
  readonly byteLength: number;
}

const DEFAULT_FETCH_TIMEOUT_MS = 60_000;

export function sourceDigest(source: ModelSource): string {
  return source.kind === "manifest" ? source.entry.sha256 : source.sha256;
}

export function sourceLabel(source: ModelSource): string {
  return source.kind === "manifest" ? source.entry.file : source.label;
}

/**
 * Gets the bytes `source` names, checks their digest, hands them to `open` (e.g. session creation) and
 * caches them once `open` succeeded. Errors: fetch_failed / timeout (download), digest_mismatch (bytes
 * differ from the digest asked for), corrupt_model (`open` threw; an ExpertError from `open` is kept as is).
 */
export async function loadVerifiedModel<T>(
  source: ModelSource,
  deps: ModelBytesDeps,
  open: (bytes: Uint8Array) => Promise<T>,
): Promise<VerifiedModel<T>> {
  const sha256 = sourceDigest(source);
  const label = sourceLabel(source);
  const digestHex = deps.digestHex ?? sha256Hex;

  const cached = await readCached(sha256, deps, digestHex);
  if (cached) {
    try {
      return { value: await open(cached), sha256, fromCache: true, byteLength: cached.byteLength };
    } catch (error) {
      const failure = asCorrupt(error, label);
      // The digest matched, so a download would give the same bytes: drop a model the runtime refuses.
      // Other failures (a runtime that could not start) say nothing about the bytes: keep them.
      if (failure.code === "corrupt_model") await deps.cache.delete(sha256).catch(() => false);
      throw failure;
    }
  }

  const bytes = source.kind === "bytes" ? source.bytes : await download(source.url, label, deps);
  const actual = await digestHex(bytes);
  if (actual !== sha256) {
    throw new ExpertError(
      "digest_mismatch",
      `${label}: the ${bytes.byteLength} bytes received have sha256 ${actual}, expected ${sha256}` +
        (source.kind === "manifest" && source.entry.bytes !== bytes.byteLength
          ? ` (the manifest says ${source.entry.bytes} bytes)`
          : ""),
    );
  }
  let value: T;
  try {
    value = await open(bytes);
  } catch (error) {
    throw asCorrupt(error, label);
  }
  try {
    await deps.cache.put(sha256, bytes);
  } catch (error) {
    // A full or unavailable store costs a download next time, nothing more: the load itself succeeded.
    deps.onNote?.(`${label}: not cached (${String(error)})`);
  }
  return { value, sha256, fromCache: false, byteLength: bytes.byteLength };
}

/** Cached bytes whose digest still matches, or undefined (a mismatching entry is deleted). */
async function readCached(
  sha256: string,
  deps: ModelBytesDeps,
  digestHex: (bytes: Uint8Array) => Promise<string>,
): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await deps.cache.get(sha256);
  } catch (error) {
    deps.onNote?.(`model cache unreadable, downloading instead (${String(error)})`);
    return undefined;
  }
  if (!bytes) return undefined;
  const actual = await digestHex(bytes);
  if (actual === sha256) return bytes;
  deps.onNote?.(
    `cached ${sha256.slice(0, 12)} had sha256 ${actual.slice(0, 12)}: deleted, downloading again`,
  );
  await deps.cache.delete(sha256).catch(() => false);
  return undefined;
}

async function download(url: string, label: string, deps: ModelBytesDeps): Promise<Uint8Array> {
  const timeoutMs = deps.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await deps.fetch(url, { signal: controller.signal });
    if (!response.ok) {
      throw new ExpertError("fetch_failed", `${label}: GET ${url} answered HTTP ${response.status}`);
    }
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (error instanceof ExpertError) throw error;
    if (controller.signal.aborted) {
      throw new ExpertError("timeout", `${label}: GET ${url} took longer than ${timeoutMs} ms`);
    }
    throw new ExpertError("fetch_failed", `${label}: GET ${url} failed: ${String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

function asCorrupt(error: unknown, label: string): ExpertError {
  if (error instanceof ExpertError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ExpertError("corrupt_model", `${label}: onnxruntime could not load the model: ${reason}`);
}
