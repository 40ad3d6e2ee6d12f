// The entry of the API's solver threads (worker_threads): tsx is registered first so the TypeScript solver
// loads without a build step (as src/node/unit-solver-thread.mjs does), then the thread's code is imported.
import { register } from "tsx/esm/api";

register();
await import("./solve-worker.ts");
