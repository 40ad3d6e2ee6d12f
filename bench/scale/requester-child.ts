/**
 * One requester process of bench:scale's jobs phase (bench/scale/node-jobs.ts starts a few): a NodeRequester
 * (the Dashboard's runtime, file-backed store) that submits `--jobs` small solves, `--concurrency` at a time,
 * and checks every accepted x itself against A and b (its own mat-vec, not the runtime's verification).
 * Prints one JSON line per finished job and a summary line with its CPU time (process.cpuUsage: the main
 * thread, libwebrtc's threads and the store's I/O, from the first submit to the last job's end).
 */
import { parseArgs } from "node:util";
import { seededRandom } from "../../src/core/base/seeded-random.ts";
import type { CsrMatrix } from "../../src/core/sparse/csr.ts";
import { poisson2d } from "../../src/core/sparse/generators.ts";
import { randomRhs } from "../../src/core/sparse/problem.ts";
import { FileIdentityStore } from "../../src/node/identity-file.ts";
import { FileJobStore } from "../../src/node/file-job-store.ts";
import { NodeRequester } from "../../src/node/requester.ts";
import { jobTiming, type JobTiming } from "./latency-breakdown.ts";

/** ||b - A x|| / ||b||, computed here from the job's own A and b. */
export function relResidual(a: CsrMatrix, x: Float64Array, b: Float64Array): number {
  let rr = 0;
  let bb = 0;
  for (let i = 0; i < a.rows; i++) {
    let ax = 0;
    for (let k = a.rowPtr[i]!; k < a.rowPtr[i + 1]!; k++) ax += a.values[k]! * x[a.colIdx[k]!]!;
    const r = b[i]! - ax;
    rr += r * r;
    bb += b[i]! * b[i]!;
  }
  return Math.sqrt(rr) / Math.sqrt(bb);
}

/** An accepted x is wrong if its residual, recomputed here, is over the job's tolerance (with rounding slack). */
const WRONG_FACTOR = 10;

export interface JobLine {
  readonly event: "job";
  readonly status: string;
  readonly latencyMs: number;
  readonly units: number;
  /** null when the job did not end done (nothing was accepted). */
  readonly relResidual: number | null;
  readonly wrong: boolean;
  /** Where the latency went (latency-breakdown.ts); null when no unit has a result. */
  readonly timing: JobTiming | null;
}

export interface SummaryLine {
  readonly event: "summary";
  readonly cpuMs: number;
  readonly units: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      identity: { type: "string" },
      store: { type: "string" },
      jobs: { type: "string", default: "50" },
      concurrency: { type: "string", default: "5" },
      size: { type: "string", default: "16" },
      seed: { type: "string", default: "1" },
    },
  });
  const tol = 1e-8;
  const a = poisson2d(Number(values.size));
  const rng = seededRandom(Number(values.seed));
  // Set below, once the requester it reads exists (the runtime may report a change while starting).
  let check = (): void => undefined;
  const requester = await NodeRequester.start({
    server: values.server!,
    identityStore: new FileIdentityStore(values.identity!),
    store: new FileJobStore(values.store!),
    onChange: () => check(),
    onError: (message) => process.stderr.write(`requester: ${message}\n`),
  });
  process.stdout.write(`${JSON.stringify({ event: "ready", peerId: requester.swarm.identity.peerId })}\n`);

  const waiting = new Map<
    string,
    { b: Float64Array; startMs: number; submitWallMs: number; resolve: () => void }
  >();
  let units = 0;
  check = (): void => {
    for (const [jobId, w] of waiting) {
      const job = requester.job(jobId);
      if (!job || job.status === "running") continue;
      waiting.delete(jobId);
      const latencyMs = performance.now() - w.startMs;
      const jobUnits = requester.runtime.units(jobId);
      units += jobUnits.length;
      const timing = jobTiming(w.submitWallMs, Date.now(), jobUnits);
      void finish(jobId, job.status, latencyMs, jobUnits.length, w.b, timing).then(w.resolve);
    }
  };
  const finish = async (
    jobId: string,
    status: string,
    latencyMs: number,
    n: number,
    b: Float64Array,
    timing: JobTiming | null,
  ) => {
    let rel: number | null = null;
    if (status === "done")
      rel = relResidual(a, (await requester.runtime.certifiedSolutions(jobId)).xs[0]!, b);
    const wrong = rel !== null && !(rel <= tol * WRONG_FACTOR);
    const line: JobLine = { event: "job", status, latencyMs, units: n, relResidual: rel, wrong, timing };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  // A slow tick too, as NodeRequester.finished does: a job may end without a change event of its own.
  const tick = setInterval(check, 250);

  const cpuStart = process.cpuUsage();
  let next = 0;
  const total = Number(values.jobs);
  const lane = async (): Promise<void> => {
    while (next < total) {
      next++;
      const b = randomRhs(a.rows, rng);
      const startMs = performance.now();
      const submitWallMs = Date.now();
      const jobId = await requester.runtime.submit({
        name: `scale ${next}`,
        kind: "solve",
        a,
        rhs: [b],
        method: "cg",
        tol,
        maxIter: 5_000,
      });
      await new Promise<void>((resolve) => {
        waiting.set(jobId, { b, startMs, submitWallMs, resolve });
        check();
      });
    }
  };
  await Promise.all(Array.from({ length: Number(values.concurrency) }, lane));
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(tick);
  const summary: SummaryLine = { event: "summary", cpuMs: (cpu.user + cpu.system) / 1000, units };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  await requester.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
