/**
 * The page side of the WebGPU solver specs (e2e/webgpu-solver-*.spec.ts): bundles kernels/webgpu/index.ts
 * with esbuild and serves it from 127.0.0.1 (WebGPU needs a secure context), with a module worker around
 * it and the systems a test stages for the page as binary blobs. One server per spec file.
 */
import { test } from "@playwright/test";
import { build } from "esbuild";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUNDLE = "/webgpu-solver.js";

/** A module worker that solves what it is sent: the solver's real home is a Web Worker. */
const WORKER_SOURCE = `
import { createWebGpuSolver } from "./webgpu-solver.js";
self.onmessage = async (e) => {
  const { m, b } = e.data;
  try {
    const solver = await createWebGpuSolver(navigator.gpu);
    const matrix = { rows: m.rows, cols: m.cols, rowPtr: Int32Array.from(m.rowPtr),
      colIdx: Int32Array.from(m.colIdx), values: Float64Array.from(m.values) };
    const r = await solver.solve(matrix, Float64Array.from(b), { method: "cg", tol: 1e-8, maxIter: 5000 });
    solver.destroy();
    self.postMessage({ ok: true, inWorker: typeof window === "undefined", x: Array.from(r.x),
      converged: r.converged, relResidual: r.relResidual, dispatchesPerIteration: r.dispatchesPerIteration });
  } catch (err) {
    self.postMessage({ ok: false, code: err.code, message: String(err) });
  }
};
`;

export interface SolverServer {
  readonly baseUrl: string;
  /** The solver bundle's URL (an ES module exporting createWebGpuSolver). */
  readonly bundleUrl: string;
  /** The same entry point as a classic script (global WebGpuSolverModule), for pages that cannot fetch. */
  readonly iifeBundle: string;
  /** Stages A and b for the page; returns the blob's URL path. */
  stage(a: CsrMatrix, b: Float64Array): string;
}

/**
 * Stages A and b as one blob: Int32 header [rows, cols, nnz, bLength], then values (f64), b (f64),
 * rowPtr (i32), colIdx (i32): f64 parts first so their offsets stay 8-byte aligned.
 */
function systemBlob(a: CsrMatrix, b: Float64Array): Buffer {
  const nnz = a.rowPtr[a.rows]!;
  const bytes = 16 + 8 * nnz + 8 * b.length + 4 * (a.rows + 1) + 4 * nnz;
  const buf = Buffer.alloc(bytes);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytes);
  new Int32Array(ab, 0, 4).set([a.rows, a.cols, nnz, b.length]);
  let off = 16;
  new Float64Array(ab, off, nnz).set(a.values.subarray(0, nnz));
  off += 8 * nnz;
  new Float64Array(ab, off, b.length).set(b);
  off += 8 * b.length;
  new Int32Array(ab, off, a.rows + 1).set(a.rowPtr);
  off += 4 * (a.rows + 1);
  new Int32Array(ab, off, nnz).set(a.colIdx.subarray(0, nnz));
  return Buffer.from(ab);
}

/**
 * Starts the server before the spec file's tests and stops it after; they run one after another (serial),
 * sharing it. The returned handle is filled in by the time a test runs.
 */
export function useSolverServer(): SolverServer {
  test.describe.configure({ mode: "serial" });
  let server: Server;
  let outDir: string;
  /** Systems staged for the page (CDP/trace serialisation of big arrays is slow). */
  const staged = new Map<string, Buffer>();
  let stagedCount = 0;
  const handle = {
    baseUrl: "",
    bundleUrl: "",
    iifeBundle: "",
    stage(a: CsrMatrix, b: Float64Array): string {
      const path = `/system/${stagedCount++}`;
      staged.set(path, systemBlob(a, b));
      return path;
    },
  };

  test.beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "webgpu-solver-e2e-"));
    const entryPoints = [join(ROOT, "kernels/webgpu/index.ts")];
    const common = { entryPoints, bundle: true, target: "es2022", logLevel: "warning" } as const;
    await build({ ...common, format: "esm", outfile: join(outDir, "webgpu-solver.js") });
    const iife = await build({ ...common, format: "iife", globalName: "WebGpuSolverModule", write: false });
    handle.iifeBundle = iife.outputFiles[0]!.text;
    const bundle = await readFile(join(outDir, "webgpu-solver.js"));
    server = createServer((req, res) => {
      if (req.url === BUNDLE) {
        res.writeHead(200, { "content-type": "text/javascript" });
        res.end(bundle);
      } else if (req.url?.startsWith("/system/") === true && staged.has(req.url)) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(staged.get(req.url));
      } else if (req.url === "/worker.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        res.end(WORKER_SOURCE);
      } else if (req.url === "/") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<!doctype html><title>webgpu solver</title>");
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    handle.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    handle.bundleUrl = `${handle.baseUrl}${BUNDLE}`;
  });

  test.afterAll(async () => {
    staged.clear();
    server.closeAllConnections(); // keep-alive sockets of the browser would hold close() open
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(outDir, { recursive: true, force: true });
  });
  return handle;
}
