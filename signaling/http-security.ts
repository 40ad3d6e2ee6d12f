import type { IncomingMessage } from "node:http";
import { timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";

/** Where browsers report CSP violations (`report-uri`): counted and logged, so a policy that breaks the app shows. */
const CSP_REPORT_PATH = "/api/v1/csp-report";

/**
 * The app's Content-Security-Policy. Scripts only from this origin, WebAssembly compilation allowed
 * ('wasm-unsafe-eval', not 'unsafe-eval'); workers from this origin or blob: (ONNX Runtime's threads);
 * connections (fetch, the directory and PeerJS WebSockets) only to this origin; canvases and saved files
 * may use data:/blob: images; never framed. React sets inline styles through the CSSOM, which CSP does not
 * restrict, so style-src needs no 'unsafe-inline'. Checked against the real app in Chromium (e2e with no
 * CSP violation in the console).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  `report-uri ${CSP_REPORT_PATH}`,
].join("; ");

/**
 * Every response, including the `peer` package's routes and errors: cross-origin isolated
 * (SharedArrayBuffer for threaded WASM kernels and ONNX Runtime threads), never embedded or sniffed,
 * no Referer sent to anyone.
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  next();
};

/** The credential of an `Authorization: Bearer <credential>` header, or null. */
export function bearerOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== "string") return null;
  const match = /^Bearer +([\x21-\x7e]{1,1024})$/.exec(header.trim());
  return match?.[1] ?? null;
}

/** Constant-time string comparison (a secret compared byte by byte would leak its prefix by timing). */
export function secretEquals(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const CSP_DIRECTIVES = new Set([
  "default-src",
  "script-src",
  "script-src-elem",
  "script-src-attr",
  "style-src",
  "style-src-elem",
  "style-src-attr",
  "worker-src",
  "connect-src",
  "img-src",
  "font-src",
  "media-src",
  "object-src",
  "frame-src",
  "child-src",
  "manifest-src",
  "base-uri",
  "form-action",
  "frame-ancestors",
]);

/**
 * The violated directive of a CSP report (`application/csp-report` or a Reporting API list), reduced to a
 * fixed set of names (metrics keys never come from a client), or null if the body is not a report.
 */
export function violatedDirective(body: unknown): string | null {
  const first = Array.isArray(body) ? (body[0] as unknown) : body;
  if (typeof first !== "object" || first === null) return null;
  const record = first as Record<string, unknown>;
  const report = (record["csp-report"] ?? record["body"]) as Record<string, unknown> | undefined;
  const directive =
    report?.["effective-directive"] ?? report?.["effectiveDirective"] ?? report?.["violated-directive"];
  if (typeof directive !== "string") return null;
  const name = directive.split(" ")[0] ?? "";
  return CSP_DIRECTIVES.has(name) ? name : "other";
}
