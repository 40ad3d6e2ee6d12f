import { readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";

/** One file the landing page fetches before it can run, with its sizes as sent (gzip, brotli) and raw. */
export interface InitialAsset {
  readonly path: string;
  readonly kind: "script" | "modulepreload" | "stylesheet";
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
}

export interface InitialLoad {
  readonly assets: readonly InitialAsset[];
  /** Sum over the scripts and modulepreloads: the JavaScript the landing page needs before it runs. */
  readonly jsGzipBytes: number;
  readonly jsBrotliBytes: number;
  readonly jsBytes: number;
  /** The concatenated initial JavaScript, to look for what should not be there (uPlot, onnxruntime-web). */
  readonly jsText: string;
}

const TAG = /<(script|link)\b([^>]*)>/g;
const ATTR = (name: string) => new RegExp(`\\b${name}="([^"]*)"`);

/**
 * What a first visit to the landing page downloads, read from a built `index.html` in `distDir`: its module
 * script, the modules Vite preloads with it and its stylesheets. Lazily loaded pages and workers are not in it.
 */
export function initialLoadOf(distDir: string): InitialLoad {
  const html = readFileSync(join(distDir, "index.html"), "utf8");
  const assets: InitialAsset[] = [];
  let jsText = "";
  for (const match of html.matchAll(TAG)) {
    const [, tag, attrs = ""] = match;
    let kind: InitialAsset["kind"] | null = null;
    let href: string | undefined;
    if (tag === "script") {
      href = ATTR("src").exec(attrs)?.[1];
      kind = "script";
    } else {
      const rel = ATTR("rel").exec(attrs)?.[1];
      href = ATTR("href").exec(attrs)?.[1];
      kind = rel === "modulepreload" ? "modulepreload" : rel === "stylesheet" ? "stylesheet" : null;
    }
    if (kind === null || href === undefined || !href.startsWith("/assets/")) continue;
    const body = readFileSync(join(distDir, href));
    if (kind !== "stylesheet") jsText += body.toString("utf8");
    assets.push({
      path: href,
      kind,
      bytes: body.length,
      gzipBytes: gzipSync(body, { level: 9 }).length,
      brotliBytes: brotliCompressSync(body).length,
    });
  }
  const js = assets.filter((a) => a.kind !== "stylesheet");
  const sum = (key: "bytes" | "gzipBytes" | "brotliBytes") => js.reduce((n, a) => n + a[key], 0);
  return {
    assets,
    jsGzipBytes: sum("gzipBytes"),
    jsBrotliBytes: sum("brotliBytes"),
    jsBytes: sum("bytes"),
    jsText,
  };
}

/** Markers of libraries the landing page must not load up front (they belong to other pages or workers). */
export const NOT_ON_LANDING_PAGE: Readonly<Record<string, string>> = {
  uPlot: "u-legend",
  "onnxruntime-web": "InferenceSession",
};
