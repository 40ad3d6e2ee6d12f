import type { RequestHandler } from "express";
import { stat } from "node:fs/promises";
import path from "node:path";

/**
 * Serves the brotli or gzip copy the build wrote next to a static file (scripts/precompress.ts: `x.wasm.br`,
 * `x.wasm.gz`) when the request accepts it: rewrites the request to the copy and sets Content-Encoding,
 * `Vary: Accept-Encoding` and the original file's Content-Type (`typeOf`), so express.static sends the
 * copy's bytes with its own ETag and Range handling. Nothing is compressed per request: the ORT .wasm files
 * are 14 and 26 MB, seconds of CPU each time (see scripts/precompress.ts).
 *
 * Choice: the highest q-value the client gives an available copy, brotli on a tie (browsers send "gzip,
 * deflate, br, zstd", all q=1, and brotli is 28 % smaller on the ORT wasm); a file without a copy, or a
 * client that accepts neither, gets the file as it is, still with Vary when a copy exists (a cache must not
 * hand a stored brotli body to a client that did not ask for it).
 */
const ENCODINGS = [
  { name: "br", suffix: ".br" },
  { name: "gzip", suffix: ".gz" },
] as const;

/** `typeOf`: the Content-Type of the original file (a MIME type, or an extension for res.type). */
export function precompressed(root: string, typeOf: (filePath: string) => string): RequestHandler {
  return (req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    let relative: string;
    try {
      relative = decodeURIComponent(req.path);
    } catch {
      return next(); // express.static answers a malformed path
    }
    const file = path.join(root, relative);
    // Traversal and directories are express.static's to refuse or resolve (index.html is served through
    // the SPA fallback's rewrite to /index.html).
    if (!file.startsWith(root + path.sep) || relative.endsWith("/")) return next();
    void variantsOf(file).then((available) => {
      if (available.length === 0) return next();
      res.vary("Accept-Encoding");
      const encoding = chooseEncoding(req.get("Accept-Encoding"), available);
      if (!encoding) return next();
      res.type(typeOf(file));
      res.setHeader("Content-Encoding", encoding.name);
      const query = req.url.indexOf("?");
      req.url = `${req.path}${encoding.suffix}${query >= 0 ? req.url.slice(query) : ""}`;
      next();
    }, next);
  };
}

/** The encodings with a copy next to `file`, in order of preference (none when `file` itself is absent). */
async function variantsOf(file: string): Promise<(typeof ENCODINGS)[number][]> {
  const isFile = (f: string) =>
    stat(f).then(
      (s) => s.isFile(),
      () => false,
    );
  if (!(await isFile(file))) return [];
  const present = await Promise.all(ENCODINGS.map((e) => isFile(file + e.suffix)));
  return ENCODINGS.filter((_, i) => present[i]);
}

/** The available encoding with the highest q-value in `accept` (RFC 9110 §12.5.3: `*` stands for any not
 *  named, q=0 refuses), the earlier in `available` on a tie; undefined when none is acceptable. */
export function chooseEncoding<E extends { readonly name: string }>(
  accept: string | undefined,
  available: readonly E[],
): E | undefined {
  const q = new Map<string, number>();
  for (const part of (accept ?? "").split(",")) {
    const [rawName, ...params] = part.split(";");
    const name = rawName!.trim().toLowerCase();
    if (name === "") continue;
    const qParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q.set(name, Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0);
  }
  let best: E | undefined;
  let bestQ = 0;
  for (const e of available) {
    const value = q.get(e.name) ?? q.get("*") ?? 0;
    if (value > bestQ) {
      best = e;
      bestQ = value;
    }
  }
  return best;
}
