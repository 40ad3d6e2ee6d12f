import { readFileSync } from "node:fs";
import type { Router } from "express";
import { ApiError } from "./errors.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { mountPathOf } from "./route-table.ts";

/** The page's files, read once at mount (a few KB), with the type each is served as. */
const PAGE_FILES = {
  "index.html": "text/html; charset=utf-8",
  "docs.js": "text/javascript; charset=utf-8",
  "docs.css": "text/css; charset=utf-8",
} as const;

type PageFile = keyof typeof PAGE_FILES;

function readPage(name: PageFile): string {
  return readFileSync(new URL(`./docs-page/${name}`, import.meta.url), "utf8");
}

/**
 * GET /openapi.json (generated once from the route table) and GET /docs, the page that renders it: a
 * static page and its script and style from this origin, because the server's Content-Security-Policy
 * (signaling/http-security.ts) allows no inline or third-party script and no CDN. Their paths are read
 * from the route table, like the document's.
 */
export function mountDocsRoutes(router: Router): void {
  const document = JSON.stringify(buildOpenApiDocument());
  const files = new Map(Object.keys(PAGE_FILES).map((name) => [name, readPage(name as PageFile)]));
  const send = (name: PageFile) => files.get(name) ?? "";

  router.get(mountPathOf("openapi"), (_req, res) => {
    res.setHeader("Cache-Control", "no-cache");
    res.type("application/json").send(document);
  });
  router.get(mountPathOf("docs"), (_req, res) => {
    res.setHeader("Cache-Control", "no-cache");
    res.type(PAGE_FILES["index.html"]).send(send("index.html"));
  });
  router.get(mountPathOf("docsAsset"), (req, res) => {
    const asset = req.params["asset"];
    if (asset !== "docs.js" && asset !== "docs.css") {
      throw new ApiError(404, "not_found", "the docs page has docs.js and docs.css only");
    }
    res.setHeader("Cache-Control", "no-cache");
    res.type(PAGE_FILES[asset]).send(send(asset));
  });
}
