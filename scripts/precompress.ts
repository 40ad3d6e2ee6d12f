import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Plugin } from "vite";

/**
 * Brotli and gzip copies of the built app's text and WebAssembly files, written next to them at build time
 * (`x.wasm.br`, `x.wasm.gz`); the server picks one by Accept-Encoding (signaling/precompressed.ts).
 *
 * At build time, not per request: the ORT .wasm files are 14 and 26 MB, and compressing the 14 MB one on
 * this 2-core machine took 2.1 s (gzip 6) and 3.5 s (brotli 4) per request. Measured on it (14.2 MB): gzip 9
 * 3.69 MB (1.2 s), brotli 9 2.67 MB (7.8 s), brotli 11 2.30 MB (38 s); the models (.onnx) took 46 s at
 * brotli 11 against 2 s at 9. So text (the app's JavaScript, 4 s in all) gets brotli 11, binaries brotli 9,
 * and a binary's copies are cached by content digest (the ORT files and the models do not change from one
 * build to the next: dist/ then dist-test/ compress them once).
 *
 * Only types that compress: images, archives, the datasets' .gz are left alone, and a copy that saves less
 * than MIN_SAVING is not written (the server then sends the file as it is).
 */
const TEXT = new Set([".js", ".mjs", ".css", ".html", ".json", ".svg", ".txt"]);
const BINARY = new Set([".wasm", ".onnx"]);
const MIN_BYTES = 1024;
const MIN_SAVING = 0.1;
/** Files compressed at once: zlib runs in the libuv pool, so two use both cores; more would only hold
 *  more of the big files in memory. */
const CONCURRENCY = 2;
const CACHE_DIR = path.join("node_modules", ".cache", "open-swarm-precompress");

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

export interface PrecompressSummary {
  readonly files: number;
  readonly bytes: number;
  readonly brBytes: number;
  readonly gzBytes: number;
}

/** The vite plugin: precompresses the output directory once the bundle is written. */
export function precompressPlugin(): Plugin {
  let outDir = "dist";
  return {
    name: "open-swarm-precompress",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const started = performance.now();
      const s = await precompressDir(outDir);
      const mb = (n: number) => (n / 1e6).toFixed(1);
      this.info(
        `precompressed ${s.files} files, ${mb(s.bytes)} MB → br ${mb(s.brBytes)} MB, gzip ${mb(s.gzBytes)} MB ` +
          `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    },
  };
}

/** Writes `.br` and `.gz` beside every compressible file under `dir` (source maps left out: only devtools
 *  fetch them). */
export async function precompressDir(dir: string, cacheDir = CACHE_DIR): Promise<PrecompressSummary> {
  const files: string[] = [];
  for (const file of await walk(dir)) {
    const ext = path.extname(file).toLowerCase();
    if ((TEXT.has(ext) || BINARY.has(ext)) && (await stat(file)).size >= MIN_BYTES) files.push(file);
  }
  const totals = { files: 0, bytes: 0, brBytes: 0, gzBytes: 0 };
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      const bytes = await readFile(file);
      const binary = BINARY.has(path.extname(file).toLowerCase());
      const quality = binary ? 9 : 11;
      const cache = binary ? cacheDir : null;
      const br = await cached(bytes, `br${quality}`, cache, () =>
        brotli(bytes, brotliOptions(bytes, quality)),
      );
      const gz = await cached(bytes, "gz9", cache, () => gzip(bytes, { level: 9 }));
      totals.files++;
      totals.bytes += bytes.length;
      if (br.length <= bytes.length * (1 - MIN_SAVING)) {
        await writeFile(`${file}.br`, br);
        totals.brBytes += br.length;
      }
      if (gz.length <= bytes.length * (1 - MIN_SAVING)) {
        await writeFile(`${file}.gz`, gz);
        totals.gzBytes += gz.length;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return totals;
}

function brotliOptions(bytes: Buffer, quality: number): zlib.BrotliOptions {
  const { constants: c } = zlib;
  return {
    params: {
      [c.BROTLI_PARAM_QUALITY]: quality,
      [c.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [c.BROTLI_PARAM_LGWIN]: 24,
    },
  };
}

/** The compressed bytes from the cache (by content digest and `how`), or made and stored there; with no
 *  cache (text: quick to make, and its hashed names change every build, so a cache would only grow), made. */
async function cached(
  bytes: Buffer,
  how: string,
  cacheDir: string | null,
  make: () => Promise<Buffer>,
): Promise<Buffer> {
  if (cacheDir === null) return make();
  const key = createHash("sha256").update(bytes).digest("hex");
  const file = path.join(cacheDir, `${key}.${how}`);
  try {
    return await readFile(file);
  } catch {
    const out = await make();
    await mkdir(cacheDir, { recursive: true });
    await writeFile(file, out);
    return out;
  }
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => {
      const full = path.join(dir, e.name);
      return e.isDirectory() ? walk(full) : Promise.resolve(e.isFile() ? [full] : []);
    }),
  );
  return nested.flat();
}
