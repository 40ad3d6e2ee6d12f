import { defineConfig } from "vite";

// The page must be crossOriginIsolated (SharedArrayBuffer for threaded WASM kernels, ORT threads),
// so dev and preview send the same COOP/COEP headers as the production server in signaling/.
const isolationHeaders = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/**
 * `vite build --mode production-clean` (npm run build:prod) leaves out the ?test=1 hooks and fault injection
 * (src/state/test-mode.ts); every other mode keeps them, loaded lazily, since the Playwright specs and the
 * benches drive `npm run build` through ?test=1.
 */
export const PRODUCTION_CLEAN_MODE = "production-clean";

export default defineConfig(({ mode }) => ({
  define: { __OPEN_SWARM_TEST_HOOKS__: JSON.stringify(mode !== PRODUCTION_CLEAN_MODE) },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: "es" },
  // Pre-bundle ORT up front, or the first `vite dev` load discovers it in the worker and reloads the page.
  optimizeDeps: { include: ["onnxruntime-web/wasm", "onnxruntime-web/webgpu"] },
  build: {
    target: "es2022",
    sourcemap: true,
    // WASM kernels are fetched and compiled by URL (and by content hash in the cache): never inline them.
    assetsInlineLimit: (filePath: string) => (filePath.endsWith(".wasm") ? false : undefined),
  },
}));
