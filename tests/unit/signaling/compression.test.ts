import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { precompressDir } from "../../../scripts/precompress.ts";
import { startTestServer, type TestServer } from "./helpers.ts";

// The build's precompression (scripts/precompress.ts) run on a real STATIC_DIR, and the real server
// choosing the copy by Accept-Encoding (signaling/precompressed.ts). Raw node:http, not fetch: fetch
// decompresses on its own, and the point is which bytes went over the wire.

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function rawGet(url: string, acceptEncoding: string | null, method = "GET"): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> =
      acceptEncoding === null ? {} : { "Accept-Encoding": acceptEncoding };
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A WebAssembly-like file that compresses well (repetitive code with some noise), 256 KB. */
function wasmLike(): Buffer {
  const out = Buffer.alloc(256 * 1024);
  out.set([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  let x = 12345;
  for (let i = 8; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 7 === 0 ? (x >>> 24) & 0xff : (i * 31) & 0x3f;
  }
  return out;
}

let t: TestServer;
let cacheDir: string;
const WASM = wasmLike();
const JS = Buffer.from(Array.from({ length: 2000 }, (_, i) => `export const v${i} = ${i};\n`).join(""));
const INDEX = Buffer.from(
  `<!doctype html><title>Open-Swarm test</title>${"<p>about the swarm</p>".repeat(200)}`,
);
/** Already compressed (random bytes): no copy is written, it goes as it is. */
const PNG = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 2654435761) >>> 24));

beforeAll(async () => {
  t = await startTestServer();
  writeFileSync(path.join(t.staticDir, "assets", "ort-abc123.wasm"), WASM);
  writeFileSync(path.join(t.staticDir, "assets", "index-abc123.js"), JS);
  writeFileSync(path.join(t.staticDir, "assets", "logo-abc123.png"), PNG);
  writeFileSync(path.join(t.staticDir, "index.html"), INDEX);
  cacheDir = mkdtempSync(path.join(tmpdir(), "open-swarm-precompress-"));
  await precompressDir(t.staticDir, cacheDir);
});
afterAll(async () => {
  await t.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe("precompressed static files", () => {
  it("writes brotli and gzip copies of text and wasm, none for images or tiny files", () => {
    const assets = readdirSync(path.join(t.staticDir, "assets")).sort();
    expect(assets).toEqual(
      expect.arrayContaining([
        "ort-abc123.wasm.br",
        "ort-abc123.wasm.gz",
        "index-abc123.js.br",
        "index-abc123.js.gz",
      ]),
    );
    expect(assets.filter((f) => f.startsWith("logo-abc123.png."))).toEqual([]);
    // The helper's 8-byte kernels-abc123.wasm is below the size worth compressing.
    expect(assets.filter((f) => f.startsWith("kernels-abc123.wasm."))).toEqual([]);
  });

  it.each([
    ["br", "br", brotliDecompressSync],
    ["gzip", "gzip", gunzipSync],
    ["gzip, deflate, br", "br", brotliDecompressSync],
    ["br;q=0.5, gzip", "gzip", gunzipSync],
    ["gzip;q=0, br;q=0.1", "br", brotliDecompressSync],
    ["*", "br", brotliDecompressSync],
    ["gzip;q=0.8, *;q=0.5", "gzip", gunzipSync],
  ] as const)(
    "Accept-Encoding %s: %s bytes that decompress to the original wasm",
    async (accept, encoding, inflate) => {
      const res = await rawGet(`${t.baseUrl}/assets/ort-abc123.wasm`, accept);
      expect(res.status).toBe(200);
      expect(res.headers["content-encoding"]).toBe(encoding);
      expect(res.headers["content-type"]).toBe("application/wasm");
      expect(res.headers["vary"]).toMatch(/accept-encoding/i);
      expect(res.headers["cache-control"]).toContain("immutable");
      expect(res.headers["cross-origin-embedder-policy"]).toBe("require-corp");
      expect(res.headers["cross-origin-opener-policy"]).toBe("same-origin");
      expect(res.headers["content-security-policy"]).toBeDefined();
      expect(res.body.length).toBeLessThan(WASM.length / 2);
      expect(Buffer.from(inflate(res.body)).equals(WASM)).toBe(true);
    },
  );

  it.each([null, "identity", "br;q=0, gzip;q=0", "deflate"])(
    "Accept-Encoding %s: the original bytes, no Content-Encoding, still Vary",
    async (accept) => {
      const res = await rawGet(`${t.baseUrl}/assets/ort-abc123.wasm`, accept);
      expect(res.status).toBe(200);
      expect(res.headers["content-encoding"]).toBeUndefined();
      expect(res.headers["content-type"]).toBe("application/wasm");
      expect(res.headers["vary"]).toMatch(/accept-encoding/i);
      expect(res.body.equals(WASM)).toBe(true);
    },
  );

  it("JavaScript keeps its JavaScript type when compressed", async () => {
    const res = await rawGet(`${t.baseUrl}/assets/index-abc123.js`, "br");
    expect(res.headers["content-encoding"]).toBe("br");
    expect(res.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(Buffer.from(brotliDecompressSync(res.body)).equals(JS)).toBe(true);
  });

  it("index.html at / and at client-side routes is compressed and revalidated", async () => {
    for (const route of ["/", "/jobs/42", "/index.html"]) {
      const res = await rawGet(`${t.baseUrl}${route}`, "gzip");
      expect(res.status, route).toBe(200);
      expect(res.headers["content-encoding"], route).toBe("gzip");
      expect(res.headers["content-type"], route).toMatch(/^text\/html/);
      expect(res.headers["cache-control"], route).toBe("no-cache");
      expect(gunzipSync(res.body).equals(INDEX), route).toBe(true);
    }
  });

  it("an image goes as it is, whatever the client accepts", async () => {
    const res = await rawGet(`${t.baseUrl}/assets/logo-abc123.png`, "br, gzip");
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBeUndefined();
    expect(res.headers["content-type"]).toBe("image/png");
    expect(res.body.equals(PNG)).toBe(true);
  });

  it("HEAD answers the compressed length without a body; missing files stay 404", async () => {
    const head = await rawGet(`${t.baseUrl}/assets/ort-abc123.wasm`, "br", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-encoding"]).toBe("br");
    expect(Number(head.headers["content-length"])).toBeLessThan(WASM.length / 2);
    expect(head.body.length).toBe(0);
    const missing = await rawGet(`${t.baseUrl}/assets/missing-abc.js`, "br");
    expect(missing.status).toBe(404);
    const traversal = await rawGet(`${t.baseUrl}/assets/..%2f..%2fetc%2fpasswd`, "br");
    expect([400, 403, 404]).toContain(traversal.status);
  });
});
