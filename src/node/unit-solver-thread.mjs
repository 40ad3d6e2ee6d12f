// The entry of the Node volunteer's solver thread (worker_threads): like bin/open-swarm.mjs, tsx is
// registered first so the TypeScript solver loads without a build step, then the thread's code is imported.
import { register } from "tsx/esm/api";

register();
await import("./unit-solver-worker.ts");
