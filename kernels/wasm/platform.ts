import type { HelperThread } from "./team.ts";

export type WasmVariant = "shared" | "single";

/** What a helper thread receives to join the team. */
export interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block. */
  ctrl: number;
  /** Thread index, 1..threads−1 (the caller is 0). */
  index: number;
  /** GEN value at start: the helper waits for it to change. */
  gen: number;
  /** Byte offsets (from ctrl) of the ERR flag and the STATE word, for reporting a trap. */
  errOffset: number;
  stateOffset: number;
}

/** Messages a helper posts back. */
export type HelperMessage = { type: "ready" } | { type: "error"; message: string };

export function parseHelperMessage(data: unknown): HelperMessage | null {
  if (typeof data !== "object" || data === null) return null;
  const d = data as { type?: unknown; message?: unknown };
  if (d.type === "ready") return { type: "ready" };
  if (d.type === "error") return { type: "error", message: typeof d.message === "string" ? d.message : "?" };
  return null;
}

export interface StartedHelper extends HelperThread {
  /** Resolves once the helper instantiated the module and entered its loop; rejects if it failed. */
  readonly ready: Promise<void>;
}

/**
 * The environment-specific part of the wasm backend (Node: fs + worker_threads; browser: Vite `?url` +
 * Web Workers), so core.ts stays the same everywhere.
 */
export interface WasmPlatform {
  readonly name: "node" | "browser";
  /** SharedArrayBuffer-backed wasm memory can be created here. */
  readonly sharedMemory: boolean;
  /** This thread may block in Atomics.wait (false on a browser main thread). */
  readonly canBlock: boolean;
  compile(variant: WasmVariant): Promise<WebAssembly.Module>;
  spawn(init: HelperInit): StartedHelper;
}
