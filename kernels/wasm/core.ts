import { WasmKernelError } from "./errors.ts";
import { WasmHeap } from "./heap.ts";
import { WasmKernelsImpl } from "./kernels.ts";
import type { WasmKernels } from "./kernels.ts";
import { ABI_VERSION, CTRL_BYTES, ERR, STATE } from "./layout.ts";
import type { StartedHelper, WasmPlatform } from "./platform.ts";
import { ThreadTeam } from "./team.ts";
import type { RunChunks } from "./team.ts";

export interface WasmKernelsOptions {
  /** Threads including the caller (default 1). More than 1 needs shared memory and a thread that may
   *  block (a worker, or Node); otherwise the instance runs on the caller alone (see `threads`). */
  threads?: number;
  /**
   * Initial memory. Shared memory grows as needed (default 1 MiB). Non-shared memory (page not
   * crossOriginIsolated) cannot grow once vectors exist, so it starts large: default 256 MiB (fewer if
   * the runtime refuses), pages the OS only commits when touched.
   */
  memoryBytes?: number;
}

export type { WasmKernels } from "./kernels.ts";

interface KernelExports {
  runChunks: RunChunks;
  abiVersion(): number;
  blockSize(): number;
  ctrlBytes(): number;
}

const MAX_THREADS = 64;
const RESERVED_LOW_BYTES = 1024; // pointer 0 means "none" (dinv), so nothing lives at the bottom
const HELPER_START_TIMEOUT_MS = 30_000;
/** Maximum memory sizes tried in turn: a shared memory reserves its maximum up front. */
const MAX_PAGES_TRIED = [65536, 32768, 16384, 4096];
const SHARED_INITIAL_BYTES = 1 << 20;
/** Non-shared initial sizes tried in turn when memoryBytes is not given. */
const SINGLE_INITIAL_BYTES_TRIED = [256 << 20, 64 << 20, 16 << 20];

function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new WasmKernelError(
      "invalid_option",
      `threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`,
    );
  }
}

function createMemory(shared: boolean, initialBytesTried: readonly number[]): WebAssembly.Memory {
  let last: unknown = null;
  for (const initialBytes of initialBytesTried) {
    const initial = Math.max(1, Math.ceil(initialBytes / 65536));
    for (const maximum of MAX_PAGES_TRIED) {
      if (maximum < initial) break;
      try {
        return new WebAssembly.Memory({ initial, maximum, shared });
      } catch (e) {
        last = e;
      }
    }
  }
  throw new WasmKernelError(
    "unsupported",
    `cannot create ${shared ? "shared " : ""}wasm memory: ${String(last)}`,
  );
}

async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const ex = instance.exports as unknown as KernelExports;
  const abi = typeof ex.abiVersion === "function" ? ex.abiVersion() : -1;
  if (abi !== ABI_VERSION || ex.ctrlBytes() !== CTRL_BYTES) {
    throw new WasmKernelError("abi_mismatch", `module ABI ${abi}, this code expects ${ABI_VERSION}: rebuild`);
  }
  return ex;
}

async function startHelpers(helpers: StartedHelper[]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new WasmKernelError("worker_failed", `helpers not ready in ${HELPER_START_TIMEOUT_MS} ms`)),
      HELPER_START_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([Promise.all(helpers.map((h) => h.ready)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The wasm backend on a given platform. See index.ts for the environment-picking entry point.
 * Threads actually used can be fewer than asked (no shared memory, or a thread that may not block).
 */
export async function createWasmKernelsOn(
  platform: WasmPlatform,
  opts: WasmKernelsOptions = {},
): Promise<WasmKernels> {
  const asked = opts.threads ?? 1;
  checkThreads(asked);
  const shared = platform.sharedMemory;
  const askedBytes = opts.memoryBytes;
  if (askedBytes !== undefined && !(askedBytes >= 0 && askedBytes <= 2 ** 32)) {
    throw new WasmKernelError("invalid_option", `memoryBytes must be in [0, 4 GiB], got ${askedBytes}`);
  }
  const floor = RESERVED_LOW_BYTES + CTRL_BYTES;
  const initialTried =
    askedBytes !== undefined
      ? [Math.max(askedBytes, floor)]
      : shared
        ? [SHARED_INITIAL_BYTES]
        : SINGLE_INITIAL_BYTES_TRIED;
  const threads = shared && platform.canBlock ? asked : 1;
  const module = await platform.compile(shared ? "shared" : "single");
  const memory = createMemory(shared, initialTried);
  const ex = await instantiate(module, memory);
  const heap = new WasmHeap(memory, shared, RESERVED_LOW_BYTES);
  const ctrl = heap.alloc(CTRL_BYTES);

  const helpers: StartedHelper[] = [];
  try {
    for (let t = 1; t < threads; t++) {
      helpers.push(
        platform.spawn({ module, memory, ctrl, index: t, gen: 0, errOffset: ERR, stateOffset: STATE }),
      );
    }
    await startHelpers(helpers);
  } catch (e) {
    for (const h of helpers) h.terminate();
    throw e instanceof WasmKernelError ? e : new WasmKernelError("worker_failed", String(e));
  }
  const team = new ThreadTeam(heap, ctrl, ex.runChunks, helpers);
  return new WasmKernelsImpl(heap, team, ex.blockSize());
}
