#!/usr/bin/env node
// `npm start`: installs and builds what is missing, then serves the app and the signaling server on
// http://localhost:PORT (default 8080). Safe to run again: it skips what is already up to date.
import { existsSync, readdirSync, statSync } from "node:fs";
import { spawnSync, spawn } from "node:child_process";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function run(args) {
  const result = spawnSync(npm, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Newest modification time under `path` (files only), skipping generated folders. */
function newestMtimeMs(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === "build") continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

if (!existsSync(join(root, "node_modules", ".package-lock.json"))) {
  console.log("open-swarm: installing dependencies (npm ci)...");
  run(["ci", "--no-audit", "--no-fund"]);
}

const builtIndex = join(root, "dist", "index.html");
const sources = ["src", "workers", "public", "index.html", "vite.config.ts", "scripts/precompress.ts"].map(
  (p) => join(root, p),
);
const sourcesMtime = Math.max(...sources.map(newestMtimeMs));
if (!existsSync(builtIndex) || statSync(builtIndex).mtimeMs < sourcesMtime) {
  console.log("open-swarm: building the app (npm run build)...");
  run(["run", "build"]);
}

const server = spawn(process.execPath, ["--import", "tsx", join(root, "api", "main.ts")], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, STATIC_DIR: process.env.STATIC_DIR ?? join(root, "dist") },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code) => process.exit(code ?? 0));
