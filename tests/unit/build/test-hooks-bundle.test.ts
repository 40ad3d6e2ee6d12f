import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type Rolldown } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_HOOKS_MODE } from "../../../vite.config.ts";
import { initialLoadOf, NOT_ON_LANDING_PAGE } from "../../../bench/bundle/initial-load.ts";

/**
 * The ?test=1 hooks and fault injection (src/state/test-mode.ts) ship only as lazily loaded chunks of the
 * test build, and not at all in the production build that `npm start` serves. Builds the real app twice (vite.config.ts, the
 * wasm kernels of `npm run build:wasm`), each into a temporary directory.
 */

const ROOT = new URL("../../..", import.meta.url).pathname;
const BUILD_TIMEOUT_MS = 300_000;

/** Strings only the test hooks and the fault injection hold (hook and fault names, URL switches, messages). */
const TEST_ONLY_STRINGS = [
  "openSwarm",
  "expertJobs",
  "jobsReady",
  "xp-fault",
  "die-mid-batch",
  "FaultInjection",
  "HostFault",
  "it needs the page's ?test=1 mode",
];

interface BuiltApp {
  readonly outDir: string;
  readonly chunks: readonly Rolldown.OutputChunk[];
  /** Every emitted .js file (workers included), by name. */
  readonly jsFiles: ReadonlyMap<string, string>;
}

const outDirs: string[] = [];

async function buildApp(mode: string): Promise<BuiltApp> {
  const outDir = await mkdtemp(join(tmpdir(), "open-swarm-build-"));
  outDirs.push(outDir);
  // Vitest runs with NODE_ENV=test, which would make Vite bundle React's development build: build as
  // `npm run build` does.
  const nodeEnv = process.env["NODE_ENV"];
  process.env["NODE_ENV"] = "production";
  const result = await build({
    root: ROOT,
    configFile: join(ROOT, "vite.config.ts"),
    mode,
    logLevel: "silent",
    build: { outDir, emptyOutDir: true, sourcemap: false, copyPublicDir: false },
  }).finally(() => {
    process.env["NODE_ENV"] = nodeEnv;
  });
  const outputs = Array.isArray(result) ? result : [result];
  const chunks = outputs.flatMap((o) =>
    "output" in o ? o.output.filter((c): c is Rolldown.OutputChunk => c.type === "chunk") : [],
  );
  const jsFiles = new Map<string, string>();
  for (const entry of await readdir(outDir, { recursive: true })) {
    if (/\.m?js$/.test(entry)) jsFiles.set(entry, await readFile(join(outDir, entry), "utf8"));
  }
  return { outDir, chunks, jsFiles };
}

function filesHolding(app: BuiltApp, text: string): string[] {
  return [...app.jsFiles].filter(([, code]) => code.includes(text)).map(([name]) => name);
}

function chunkOf(app: BuiltApp, sourceFile: string): Rolldown.OutputChunk | undefined {
  return app.chunks.find((c) => c.facadeModuleId?.endsWith(sourceFile));
}

afterAll(async () => {
  await Promise.all(outDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("the production build (npm run build, served by npm start)", () => {
  let app: BuiltApp;
  beforeAll(async () => {
    app = await buildApp("production");
  }, BUILD_TIMEOUT_MS);

  it("emits no test hook and no fault injection in any JS file", () => {
    expect(app.jsFiles.size).toBeGreaterThan(1);
    for (const text of TEST_ONLY_STRINGS) expect(filesHolding(app, text), text).toEqual([]);
    expect(chunkOf(app, "src/state/test-hook.ts")).toBeUndefined();
    expect(chunkOf(app, "src/state/test-faults.ts")).toBeUndefined();
  });

  it("the landing page loads at most 250 KB of JavaScript (gzip), without uPlot or onnxruntime-web", () => {
    const load = initialLoadOf(app.outDir);
    expect(load.assets.some((a) => a.kind === "script")).toBe(true);
    expect(load.jsGzipBytes).toBeLessThanOrEqual(250 * 1024);
    for (const [library, marker] of Object.entries(NOT_ON_LANDING_PAGE)) {
      expect(load.jsText.includes(marker), library).toBe(false);
      // The marker is real: the library is in the build, in a chunk loaded later.
      expect(filesHolding(app, marker).length, library).toBeGreaterThan(0);
    }
  });
});

describe("the test build (npm run build:test, which the Playwright specs drive)", () => {
  let app: BuiltApp;
  beforeAll(async () => {
    app = await buildApp(TEST_HOOKS_MODE);
  }, BUILD_TIMEOUT_MS);

  it("keeps the test hook and the faults as chunks of their own, imported lazily by the entry", () => {
    const entry = app.chunks.find((c) => c.isEntry);
    const hook = chunkOf(app, "src/state/test-hook.ts");
    const faults = chunkOf(app, "src/state/test-faults.ts");
    expect(entry).toBeDefined();
    expect(hook?.isDynamicEntry).toBe(true);
    expect(faults?.isDynamicEntry).toBe(true);
    expect(entry?.dynamicImports).toEqual(expect.arrayContaining([hook?.fileName, faults?.fileName]));
    expect(entry?.imports).not.toContain(hook?.fileName);
    expect(entry?.imports).not.toContain(faults?.fileName);
    expect(hook?.code).toContain("openSwarm");
    expect(faults?.code).toContain("die-mid-batch");
    for (const text of ["openSwarm", "die-mid-batch", "FaultInjection", "HostFault"]) {
      expect(entry?.code, text).not.toContain(text);
    }
  });
});
