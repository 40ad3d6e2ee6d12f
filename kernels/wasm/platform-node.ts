import { WasmKernelError } from "./errors.ts";
import { parseHelperMessage } from "./platform.ts";
import type { HelperInit, StartedHelper, WasmPlatform, WasmVariant } from "./platform.ts";

/*
 * Node: the .wasm is read from build/ with fs, helpers are worker_threads running thread-node.mjs.
 * Node modules are imported dynamically through a variable specifier and typed by the minimal interfaces
 * below: this folder is type-checked with the WebWorker lib (no Node types), and a browser bundle must
 * not pull Node builtins in.
 */

interface NodeFs {
  readFile(path: URL): Promise<Uint8Array<ArrayBuffer>>;
}
interface NodeWorker {
  on(event: "message", cb: (data: unknown) => void): void;
  on(event: "error", cb: (err: Error) => void): void;
  on(event: "exit", cb: (code: number) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}
interface NodeWorkerThreads {
  Worker: new (url: URL, options: { workerData: unknown }) => NodeWorker;
}

const nodeImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

const modules = new Map<WasmVariant, Promise<WebAssembly.Module>>();
let workerThreads: NodeWorkerThreads | null = null;

async function compileVariant(variant: WasmVariant): Promise<WebAssembly.Module> {
  const fs = (await nodeImport("node:fs/promises")) as NodeFs;
  const url = new URL(`./build/kernels-${variant}.wasm`, import.meta.url);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await fs.readFile(url);
  } catch (e) {
    throw new WasmKernelError(
      "not_built",
      `cannot read ${url.pathname} (${(e as Error).message}); run npm run build:wasm`,
    );
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new WasmKernelError(
      "unsupported",
      `this runtime cannot compile the kernels: ${(e as Error).message}`,
    );
  }
}

function spawn(init: HelperInit): StartedHelper {
  if (workerThreads === null) throw new WasmKernelError("unsupported", "worker_threads not loaded");
  const worker = new workerThreads.Worker(new URL("./thread-node.mjs", import.meta.url), {
    workerData: init,
  });
  // A forgotten dispose() must not keep the process alive.
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (data) => {
      const msg = parseHelperMessage(data);
      if (msg?.type === "ready") resolve();
      else if (msg?.type === "error")
        reject(new WasmKernelError("worker_failed", `helper ${init.index}: ${msg.message}`));
    });
    worker.on("error", (err) =>
      reject(new WasmKernelError("worker_failed", `helper ${init.index}: ${err.message}`)),
    );
    worker.on("exit", (code) =>
      reject(new WasmKernelError("worker_failed", `helper ${init.index} exited (${code})`)),
    );
  });
  // Rejections after start-up are surfaced through the shared ERR flag instead.
  ready.catch(() => undefined);
  return {
    ready,
    terminate: () => {
      worker.terminate().catch(() => undefined);
    },
  };
}

export async function loadNodePlatform(): Promise<WasmPlatform> {
  workerThreads ??= (await nodeImport("node:worker_threads")) as NodeWorkerThreads;
  return {
    name: "node",
    sharedMemory: typeof SharedArrayBuffer === "function",
    canBlock: true,
    compile(variant) {
      let m = modules.get(variant);
      if (m === undefined) {
        m = compileVariant(variant);
        // Do not cache a failure (e.g. not built yet): the next call retries.
        m.catch(() => modules.delete(variant));
        modules.set(variant, m);
      }
      return m;
    },
    spawn,
  };
}
