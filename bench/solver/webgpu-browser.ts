import { chromium, type Browser, type Page } from "@playwright/test";
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import type * as WebGpuSolverModule from "../../kernels/webgpu/index.ts";
import { CHROMIUM_ARGS, SYSTEM_CHROMIUM } from "../../scripts/chromium.ts";

/**
 * The browser side of the WebGPU rows: kernels/webgpu/index.ts bundled with esbuild, served from
 * 127.0.0.1 (WebGPU needs a secure context, and http://127.0.0.1 is one), driven in headless Chromium with
 * page.evaluate. Systems travel to the page as one binary blob it fetches (serialising big arrays through
 * the DevTools protocol is slow); x comes back as a Float64Array (Playwright transfers typed arrays).
 */

const ENTRY = fileURLToPath(new URL("../../kernels/webgpu/index.ts", import.meta.url));
const BUNDLE_PATH = "/webgpu-solver.js";
/**
 * The page loads the bundle itself and leaves it on a global: an import() inside a page.evaluate function
 * would be rewritten by whatever transpiles this file (vitest's SSR transform does), and break in the page.
 */
const MODULE_GLOBAL = "webgpuSolverModule";
const PAGE_HTML =
  `<!doctype html><title>webgpu bench</title>` +
  `<script type="module">import * as m from "${BUNDLE_PATH}"; globalThis.${MODULE_GLOBAL} = m;</script>`;

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
}

/** Same test as kernels/webgpu/benchmark.ts: a CPU implementation of WebGPU times nothing useful. */
export function isSoftwareAdapter(a: AdapterInfo): boolean {
  return /swiftshader|llvmpipe|software/i.test(`${a.architecture} ${a.description}`);
}

export interface PageSolveOptions {
  method: "cg";
  preconditioner: "jacobi";
  tol: number;
  maxIter: number;
  timeLimitMs: number;
}

// Playwright turns NaN and ±Infinity into numbers again; zod's z.number() would refuse them, and a
// diverged solve may legitimately report one.
const anyNumber = z.custom<number>((v) => typeof v === "number", "expected a number");
const count = z.number().int().nonnegative();
const Adapter = z.object({ vendor: z.string(), architecture: z.string(), description: z.string() });

const PageSolveResult = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    x: z.instanceof(Float64Array),
    converged: z.boolean(),
    reason: z.string(),
    iterations: count,
    relResidual: anyNumber,
    methodPath: z.array(z.string()),
    ms: z.number().nonnegative(),
    dispatches: count,
    readbacks: count,
    dispatchesPerIteration: z.number().nonnegative(),
    dispatchesPerUsefulIteration: z.number().nonnegative(),
    readbacksPerIteration: z.number().nonnegative(),
    encodedIterations: count,
    outerIterations: count,
    rowBlocks: count,
    adapter: Adapter,
  }),
  z.object({ ok: z.literal(false), code: z.string().optional(), message: z.string() }),
]);
export type PageSolveResult = z.infer<typeof PageSolveResult>;

const Probe = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), adapter: Adapter }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);
export type Probe = z.infer<typeof Probe>;

/**
 * A: Int32 header [rows, cols, nnz, n], then values (f64), b (f64), rowPtr (i32), colIdx (i32): the f64
 * parts first so their offsets stay 8-byte aligned (the layout e2e/support/webgpu-solver-server.ts uses too).
 */
function systemBlob(a: CsrMatrix, b: Float64Array): Buffer {
  const nnz = a.rowPtr[a.rows]!;
  const bytes = 16 + 8 * nnz + 8 * b.length + 4 * (a.rows + 1) + 4 * nnz;
  const ab = new ArrayBuffer(bytes);
  new Int32Array(ab, 0, 4).set([a.rows, a.cols, nnz, b.length]);
  let off = 16;
  new Float64Array(ab, off, nnz).set(a.values.subarray(0, nnz));
  off += 8 * nnz;
  new Float64Array(ab, off, b.length).set(b);
  off += 8 * b.length;
  new Int32Array(ab, off, a.rows + 1).set(a.rowPtr.subarray(0, a.rows + 1));
  off += 4 * (a.rows + 1);
  new Int32Array(ab, off, nnz).set(a.colIdx.subarray(0, nnz));
  return Buffer.from(ab);
}

export class WebGpuBrowser {
  private page: Page | null = null;
  private stagedCount = 0;

  private constructor(
    private readonly browser: Browser,
    private readonly server: Server,
    private readonly baseUrl: string,
    private readonly staged: Map<string, Buffer>,
  ) {}

  /** Bundles the solver, starts the server and the browser. Throws with a readable message if one fails. */
  static async start(executablePath?: string): Promise<WebGpuBrowser> {
    const out = await build({
      entryPoints: [ENTRY],
      bundle: true,
      format: "esm",
      target: "es2022",
      write: false,
      logLevel: "warning",
    });
    const bundle = out.outputFiles[0]!.contents;
    const staged = new Map<string, Buffer>();
    const server = createServer((req, res) => {
      const blob = req.url === undefined ? undefined : staged.get(req.url);
      if (req.url === BUNDLE_PATH) {
        res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
      } else if (blob !== undefined) {
        staged.delete(req.url!); // fetched once: free the copy
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(blob);
      } else if (req.url === "/") {
        res.writeHead(200, { "content-type": "text/html" }).end(PAGE_HTML);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const exe = executablePath ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined);
    try {
      const browser = await chromium.launch({
        headless: true,
        args: [...CHROMIUM_ARGS, "--headless=new"],
        ...(exe === undefined ? {} : { executablePath: exe }),
      });
      return new WebGpuBrowser(browser, server, baseUrl, staged);
    } catch (e) {
      await closeServer(server);
      const where = exe ?? "Playwright's bundled Chromium";
      throw new Error(`cannot launch Chromium (${where}): ${(e as Error).message.split("\n")[0]}`);
    }
  }

  private async freshPage(): Promise<Page> {
    if (this.page !== null && !this.page.isClosed()) return this.page;
    const page = await this.browser.newPage();
    await page.goto(`${this.baseUrl}/`);
    await page.waitForFunction((name) => name in globalThis, MODULE_GLOBAL, { timeout: 60_000 });
    this.page = page;
    return page;
  }

  /** Is there a WebGPU adapter in this browser, and which. */
  async probe(): Promise<Probe> {
    const page = await this.freshPage();
    return Probe.parse(
      await page.evaluate(async () => {
        const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
        if (gpu === undefined) return { ok: false as const, message: "navigator.gpu is missing" };
        const a = await gpu.requestAdapter();
        if (a === null) return { ok: false as const, message: "requestAdapter() granted no adapter" };
        const { vendor, architecture, description } = a.info;
        return { ok: true as const, adapter: { vendor, architecture, description } };
      }),
    );
  }

  /**
   * One solve on a fresh solver (a fresh device: no state carried between problems). If the page does not
   * answer within `guardMs` it is closed (the next solve opens a new one) and this throws.
   */
  async solve(a: CsrMatrix, b: Float64Array, o: PageSolveOptions, guardMs: number): Promise<PageSolveResult> {
    const page = await this.freshPage();
    const systemUrl = `/system/${this.stagedCount++}`;
    this.staged.set(systemUrl, systemBlob(a, b));
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void page.close();
        reject(new Error(`no answer from the page within ${(guardMs / 1000).toFixed(0)} s`));
      }, guardMs);
    });
    try {
      const raw = await Promise.race([
        guard,
        page.evaluate(solveInPage, { moduleGlobal: MODULE_GLOBAL, systemUrl, o }),
      ]);
      return PageSolveResult.parse(raw);
    } finally {
      clearTimeout(timer);
      this.staged.delete(systemUrl);
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await closeServer(this.server);
  }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections(); // the browser's keep-alive sockets would hold close() open
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Runs in the page (serialised by Playwright: it may use only its arguments and browser globals). */
async function solveInPage(args: { moduleGlobal: string; systemUrl: string; o: PageSolveOptions }) {
  const mod = (globalThis as unknown as Record<string, typeof WebGpuSolverModule>)[args.moduleGlobal]!;
  const blob = await (await fetch(args.systemUrl)).arrayBuffer();
  const [rows, cols, nnz, n] = new Int32Array(blob, 0, 4) as unknown as [number, number, number, number];
  const values = new Float64Array(blob, 16, nnz);
  const b = new Float64Array(blob, 16 + 8 * nnz, n);
  const rowPtrOffset = 16 + 8 * nnz + 8 * n;
  const rowPtr = new Int32Array(blob, rowPtrOffset, rows + 1);
  const colIdx = new Int32Array(blob, rowPtrOffset + 4 * (rows + 1), nnz);
  let solver: Awaited<ReturnType<typeof mod.createWebGpuSolver>> | undefined;
  try {
    solver = await mod.createWebGpuSolver(navigator.gpu);
    const r = await solver.solve({ rows, cols, rowPtr, colIdx, values }, b, args.o);
    return {
      ok: true as const,
      x: r.x,
      converged: r.converged,
      reason: r.reason,
      iterations: r.iterations,
      relResidual: r.relResidual,
      methodPath: r.methodPath,
      ms: r.ms,
      dispatches: r.dispatches,
      readbacks: r.readbacks,
      dispatchesPerIteration: r.dispatchesPerIteration,
      dispatchesPerUsefulIteration: r.dispatchesPerUsefulIteration,
      readbacksPerIteration: r.readbacksPerIteration,
      encodedIterations: r.encodedIterations,
      outerIterations: r.outerIterations,
      rowBlocks: r.rowBlocks,
      adapter: { ...r.adapter },
    };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return {
      ok: false as const,
      ...(err.code === undefined ? {} : { code: err.code }),
      message: String(err.message ?? e),
    };
  } finally {
    solver?.destroy();
  }
}
