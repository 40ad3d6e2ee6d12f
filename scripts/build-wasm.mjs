#!/usr/bin/env node
// Compiles the AssemblyScript solver kernels (kernels/wasm/assembly) into kernels/wasm/build.
// Two variants of the same kernels:
//   kernels-shared.wasm  imported SHARED memory + helper-thread loop (--enable threads); used wherever
//                        SharedArrayBuffer exists (Node, crossOriginIsolated pages);
//   kernels-single.wasm  imported non-shared memory, calling thread only (pages that are not isolated).
// Both use --runtime stub (the AssemblyScript runtime is not thread-safe; JS lays out all memory) and
// SIMD (dense vector kernels are 4-way unrolled f64x2). Skips the work when every output is newer than
// every source and this script: `npm run build:wasm` is cheap to run before tests and benchmarks.
// Flags: --force (rebuild anyway), --wat (also write .wat text next to each .wasm, for inspection).
import { mkdir, readdir, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(root, "kernels/wasm/assembly");
const outDir = join(root, "kernels/wasm/build");

const common = [
  "-O3",
  "--runtime",
  "stub",
  "--noAssert",
  "--importMemory",
  "--noExportMemory",
  "--initialMemory",
  "1",
  // 65536 pages = 4 GiB, the wasm32 limit; the JS side creates the memory with a maximum it can reserve.
  "--maximumMemory",
  "65536",
  "--enable",
  "simd",
];

const variants = [
  { entry: "shared.ts", out: "kernels-shared", flags: ["--sharedMemory", "--enable", "threads"] },
  { entry: "single.ts", out: "kernels-single", flags: [] },
];

const args = new Set(process.argv.slice(2));
const force = args.has("--force");
const wantWat = args.has("--wat");

async function mtimeMs(path) {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return -Infinity;
  }
}

async function newestSourceMs() {
  const files = (await readdir(srcDir)).filter((f) => f.endsWith(".ts") || f.endsWith(".json"));
  const times = await Promise.all([
    ...files.map((f) => mtimeMs(join(srcDir, f))),
    mtimeMs(fileURLToPath(import.meta.url)),
  ]);
  return Math.max(...times);
}

async function upToDate(sourceMs) {
  for (const v of variants) {
    if ((await mtimeMs(join(outDir, `${v.out}.wasm`))) <= sourceMs) return false;
    if (wantWat && (await mtimeMs(join(outDir, `${v.out}.wat`))) <= sourceMs) return false;
  }
  return true;
}

/** Compiles one variant in memory, then writes via temp file + rename so a concurrent reader (a test
 *  runner started in parallel) never sees a half-written module. */
async function compile(v) {
  // Imported lazily: loading the compiler costs more than the up-to-date check.
  const { default: asc } = await import("assemblyscript/asc");
  const outputs = new Map();
  const argv = [join(srcDir, v.entry), ...common, ...v.flags, "--outFile", `${v.out}.wasm`];
  if (wantWat) argv.push("--textFile", `${v.out}.wat`);
  let stderr = "";
  const { error } = await asc.main(argv, {
    stdout: { write: () => true },
    stderr: {
      write: (chunk) => {
        stderr += String(chunk);
        return true;
      },
    },
    writeFile: (name, contents) => {
      outputs.set(name, contents);
    },
  });
  if (error) throw new Error(`asc failed for ${v.entry}: ${error.message}\n${stderr}`);
  for (const [name, contents] of outputs) {
    const target = join(outDir, name);
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, contents);
    await rename(tmp, target);
  }
}

const sourceMs = await newestSourceMs();
if (!force && (await upToDate(sourceMs))) {
  console.log("build-wasm: up to date");
} else {
  await mkdir(outDir, { recursive: true });
  const t0 = performance.now();
  await Promise.all(variants.map(compile));
  console.log(
    `build-wasm: ${variants.map((v) => `${v.out}.wasm`).join(", ")} in ${Math.round(performance.now() - t0)} ms`,
  );
}
