#!/usr/bin/env node
// Runs the TypeScript CLI straight from the repo: tsx compiles src/ on the fly (no build step).
import { register } from "tsx/esm/api";

register();
// A dynamic import: a static one would be hoisted above register() and load .ts before tsx is ready.
const { main } = await import("../src/cli/main.ts");
await main();
