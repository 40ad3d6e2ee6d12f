/**
 * `npm run bench:bundle -- [--json FILE]`: what a first visit to the landing page (Contribute) downloads,
 * from the production build (`npm run build`, dist/): each initial asset raw, gzip and brotli, and the total
 * initial JavaScript. Goal (issue 11): at most 250 KB of JavaScript, gzip, and neither uPlot nor
 * onnxruntime-web in it. Sizes are deterministic for a given build: no repeats are needed.
 */
import { existsSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { initialLoadOf, NOT_ON_LANDING_PAGE } from "./bundle/initial-load.ts";

const GOAL_JS_GZIP_BYTES = 250 * 1024;
const { values: args } = parseArgs({ options: { json: { type: "string" } } });

if (!existsSync("dist/index.html")) {
  console.error("bench:bundle needs the production build (dist/): run `npm run build` first");
  process.exit(1);
}
const load = initialLoadOf("dist");
const kb = (n: number) => (n / 1024).toFixed(1).padStart(8);
console.log("landing page, first visit (dist/index.html):");
console.log(`${"asset".padEnd(48)} ${"raw KB".padStart(8)} ${"gzip KB".padStart(8)} ${"br KB".padStart(8)}`);
for (const a of load.assets) {
  console.log(`${`${a.path} (${a.kind})`.padEnd(48)} ${kb(a.bytes)} ${kb(a.gzipBytes)} ${kb(a.brotliBytes)}`);
}
console.log(
  `${"initial JavaScript".padEnd(48)} ${kb(load.jsBytes)} ${kb(load.jsGzipBytes)} ${kb(load.jsBrotliBytes)}`,
);
const present = Object.entries(NOT_ON_LANDING_PAGE)
  .filter(([, marker]) => load.jsText.includes(marker))
  .map(([name]) => name);
const ratio = load.jsGzipBytes / GOAL_JS_GZIP_BYTES;
console.log(
  `initial JS gzip / goal (250 KB) = ${ratio.toFixed(2)}; libraries that should load later but are in it: ` +
    (present.length === 0 ? "none" : present.join(", ")),
);
if (args.json !== undefined) {
  const { jsText: _jsText, ...report } = load;
  writeFileSync(
    args.json,
    JSON.stringify({ ...report, goalJsGzipBytes: GOAL_JS_GZIP_BYTES, ratioToGoal: ratio, present }, null, 2),
  );
}
