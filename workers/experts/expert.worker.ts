/// <reference lib="webworker" />
/**
 * The expert worker: onnxruntime-web sessions by model digest (src/core/experts/models/session-pool.ts), model
 * bytes verified against their sha256 and cached in the Cache API (cache-store.ts), exposed with Comlink.
 * Output buffers are transferred back, not copied.
 */
// First: no CSP-violating eval probe by zod (see the module).
import "../../src/core/base/zod-jitless.ts";
import * as Comlink from "comlink";
import { ExpertError, SessionPool } from "../../src/core/experts/models/index.ts";
import type { ExpertWorkerApi, ExpertWorkerConfig, Outcome } from "./api.ts";
import { CacheApiModelStore } from "./cache-store.ts";
import { OrtWebRuntime } from "./ort-runtime.ts";

const MAX_NOTES = 50;
const notes: string[] = [];
const note = (text: string): void => {
  notes.push(text);
  if (notes.length > MAX_NOTES) notes.shift();
};

const store = new CacheApiModelStore();
let config: ExpertWorkerConfig = { numThreads: 1, preference: "auto" };
let runtime: OrtWebRuntime | null = null;
let pool: SessionPool | null = null;

function currentPool(): { pool: SessionPool; runtime: OrtWebRuntime } {
  if (!pool || !runtime) {
    runtime = new OrtWebRuntime(config.numThreads);
    pool = new SessionPool(
      runtime,
      { cache: store, fetch: (url, init) => self.fetch(url, init), onNote: note },
      { preference: config.preference, onNote: note },
    );
  }
  return { pool, runtime };
}

function failure(error: unknown): Outcome<never> {
  if (error instanceof ExpertError) return { ok: false, error: { code: error.code, message: error.message } };
  return {
    ok: false,
    error: { code: "runtime_failed", message: error instanceof Error ? error.message : String(error) },
  };
}

const api: ExpertWorkerApi = {
  async configure(next) {
    if (pool && (next.numThreads !== config.numThreads || next.preference !== config.preference)) {
      // ORT reads numThreads once per build: settings apply to a fresh worker, not to this one.
      throw new Error("the expert worker is already running: create a new client to change its settings");
    }
    config = next;
  },

  async load(source, preference) {
    try {
      return { ok: true, value: await currentPool().pool.load(source, preference) };
    } catch (error) {
      return failure(error);
    }
  },

  async run(sha256, input, rows) {
    try {
      const value = await currentPool().pool.run(sha256, input, rows);
      const buffers = Object.values(value.outputs).map((o) => o.data.buffer as ArrayBuffer);
      return Comlink.transfer({ ok: true, value }, buffers);
    } catch (error) {
      return failure(error);
    }
  },

  async unload(sha256) {
    await pool?.unload(sha256);
  },

  async loaded() {
    return pool?.loaded() ?? [];
  },

  cachedDigests: () => store.list(),

  clearCache: () => store.clear(),

  async info() {
    const { runtime: rt } = currentPool();
    const architecture = await rt.adapterArchitecture();
    return {
      webgpuAdapter: architecture !== null,
      adapterArchitecture: architecture,
      crossOriginIsolated: self.crossOriginIsolated,
      numThreads: self.crossOriginIsolated ? config.numThreads : 1,
      runtimes: rt.started(),
      notes: [...notes],
    };
  },
};

Comlink.expose(api);
