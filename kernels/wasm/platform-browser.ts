import { WasmKernelError } from "./errors.ts";
import { parseHelperMessage } from "./platform.ts";
import type { HelperInit, StartedHelper, WasmPlatform, WasmVariant } from "./platform.ts";
import sharedUrl from "./build/kernels-shared.wasm?url";
import singleUrl from "./build/kernels-single.wasm?url";

/*
 * Browser: the .wasm files are Vite `?url` assets, helpers are module Web Workers (nested in the solver
 * worker). Shared memory needs crossOriginIsolated; blocking (Atomics.wait) needs a worker, so on a page's
 * main thread the kernels run single-threaded.
 */

const urls: Record<WasmVariant, string> = { shared: sharedUrl, single: singleUrl };
const modules = new Map<WasmVariant, Promise<WebAssembly.Module>>();

async function compileVariant(variant: WasmVariant): Promise<WebAssembly.Module> {
  const url = urls[variant];
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new WasmKernelError("not_built", `cannot fetch ${url}: ${String(e)}`);
  }
  if (!response.ok) throw new WasmKernelError("not_built", `fetching ${url} gave HTTP ${response.status}`);
  try {
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (e) {
    throw new WasmKernelError("unsupported", `this browser cannot compile the kernels: ${String(e)}`);
  }
}

function spawn(init: HelperInit): StartedHelper {
  const worker = new Worker(new URL("./thread.worker.ts", import.meta.url), { type: "module" });
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<unknown>) => {
      const msg = parseHelperMessage(ev.data);
      if (msg?.type === "ready") resolve();
      else if (msg?.type === "error")
        reject(new WasmKernelError("worker_failed", `helper ${init.index}: ${msg.message}`));
    };
    worker.onerror = (ev: ErrorEvent) =>
      reject(new WasmKernelError("worker_failed", `helper ${init.index}: ${ev.message}`));
  });
  ready.catch(() => undefined);
  worker.postMessage(init);
  return { ready, terminate: () => worker.terminate() };
}

export function loadBrowserPlatform(): WasmPlatform {
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown };
  return {
    name: "browser",
    sharedMemory: g.crossOriginIsolated === true && typeof SharedArrayBuffer === "function",
    // Atomics.wait throws on a page's main thread; any worker may block.
    canBlock: g.document === undefined,
    compile(variant) {
      let m = modules.get(variant);
      if (m === undefined) {
        m = compileVariant(variant);
        m.catch(() => modules.delete(variant));
        modules.set(variant, m);
      }
      return m;
    },
    spawn,
  };
}
