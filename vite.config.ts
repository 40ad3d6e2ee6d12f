import { defineConfig } from "vite";
import { precompressPlugin } from "./scripts/precompress.ts";

// The page must be crossOriginIsolated (SharedArrayBuffer for threaded WASM kernels, ORT threads),
// so dev and preview send the same COOP/COEP headers as the production server in signaling/.
const isolationHeaders = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/**
 * The ?test=1 hooks and fault injection (src/state/test-mode.ts) are compiled in only in this mode
 * (`npm run build:test`, into dist-test/, which the Playwright specs and the benches drive) and in the dev
 * server. `npm run build`, the app `npm start` serves and anyone deploys, leaves them out altogether: a link
 * to `/?test=1&fault=perturb` must not turn a visitor's tab into a liar.
 */
export const TEST_HOOKS_MODE = "e2e";

/** Where `npm run build:test` writes the build with the test hooks (never served by `npm start`). */
export const TEST_BUILD_DIR = "dist-test";

export default defineConfig(({ mode }) => ({
  define: {
    __OPEN_SWARM_TEST_HOOKS__: JSON.stringify(mode === TEST_HOOKS_MODE || mode === "development"),
  },
  // Brotli and gzip copies of the built files, which the server sends to clients that accept them.
  plugins: [precompressPlugin()],
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
