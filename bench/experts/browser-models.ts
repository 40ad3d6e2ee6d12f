import type {} from "../../src/state/experts/test-hook.ts";
import type { Tab } from "../swarm/harness.ts";
import type { PassSettings, PassTimes } from "./passes.ts";
import type { MoeModel } from "./rows.ts";

export interface BrowserPassSettings extends PassSettings {
  readonly reps: number;
  readonly warmup: number;
}

export interface BrowserWorkerInfo {
  readonly webgpuAdapter: boolean;
  readonly adapterArchitecture: string | null;
  readonly crossOriginIsolated: boolean;
  readonly numThreads: number;
}

/**
 * The whole-MoE graph on onnxruntime-web's wasm provider in the tab's expert worker (the product's
 * ExpertRunnerClient, forced to "wasm"), timed inside the page so no Playwright round trip is counted: wall
 * time per pass as the page sees it (messages to the worker and the input copies included) and the worker's
 * own session.run time. The test images come from the server's dataset endpoint, as the dashboard gets them.
 */
export async function timeBrowser(
  tab: Tab,
  model: MoeModel,
  settings: BrowserPassSettings,
): Promise<{
  times: PassTimes;
  info: BrowserWorkerInfo;
}> {
  const variant: "int8" | "fp32" = model === "moe-int8" ? "int8" : "fp32";
  const out = await tab.page.evaluate(
    async ({ variant, images, batchRows, reps, warmup, threads }) => {
      for (let i = 0; i < 200 && !window.openSwarm!.experts; i++) await new Promise((r) => setTimeout(r, 50));
      const ex = window.openSwarm!.experts;
      if (!ex) throw new Error("window.openSwarm.experts is missing (is the page in ?test=1 mode?)");
      const response = await fetch("/api/v1/datasets/fashion-mnist/t10k-images");
      if (!response.ok || !response.body) throw new Error(`test images: HTTP ${response.status}`);
      const idx = new Uint8Array(
        await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
      );
      const view = new DataView(idx.buffer);
      if (view.getUint32(0) !== 0x803 || view.getUint32(4) < images) throw new Error("unexpected IDX header");
      const pixels = Float32Array.from(idx.subarray(16, 16 + images * 784), (p) => p / 255);

      const runner = ex.createRunner({ provider: "wasm", threads });
      try {
        const fetched = await ex.loadManifest();
        const loaded = await runner.load(ex.source(fetched, "moe", variant));
        const classes = fetched.manifest.classes.length;
        const predictions = new Array<number>(images).fill(-1);
        // One loop, no local function: tsx (esbuild keepNames) would wrap a named function in a __name()
        // helper that does not exist in the page.
        const wall: number[] = [];
        const compute: number[] = [];
        for (let i = 0; i < warmup + reps; i++) {
          let computeMs = 0;
          const passStarted = performance.now();
          for (let at = 0; at < images; at += batchRows) {
            const n = Math.min(batchRows, images - at);
            const run = await runner.run(loaded.sha256, pixels.subarray(at * 784, (at + n) * 784), n);
            computeMs += run.ms;
            const logits = run.outputs[loaded.outputNames[0] ?? ""]!.data;
            for (let r = 0; r < n; r++) {
              let best = 0;
              for (let c = 1; c < classes; c++)
                if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
              predictions[at + r] = best;
            }
          }
          if (i < warmup) continue;
          wall.push(performance.now() - passStarted);
          compute.push(computeMs);
        }
        const info = await runner.info();
        return {
          provider: runner.providerOf(loaded.sha256) ?? "unknown",
          wall,
          compute,
          loadMs: loaded.loadMs,
          predictions,
          info: {
            webgpuAdapter: info.webgpuAdapter,
            adapterArchitecture: info.adapterArchitecture,
            crossOriginIsolated: info.crossOriginIsolated,
            numThreads: info.numThreads,
          },
        };
      } finally {
        runner.dispose();
      }
    },
    { variant, ...settings },
  );
  return {
    times: {
      model,
      provider: out.provider,
      passWallMs: out.wall,
      passComputeMs: out.compute,
      loadMs: out.loadMs,
      predictions: out.predictions,
    },
    info: out.info,
  };
}
