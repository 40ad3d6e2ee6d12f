/// <reference lib="webworker" />
/**
 * The solver in a Web Worker: parses the system, runs the solve (run-job.ts: backend, live updates, cold
 * comparison), streams iteration updates back through a Comlink callback and returns x (transferred, not
 * copied). With keepSystem it keeps A, b and x for warm re-solves after updates (resolveWarm). Errors come
 * back as { ok: false, error: { code, message } } so their codes survive the trip.
 */
// First: no CSP-violating eval probe by zod (see the module).
import "../../src/core/base/zod-jitless.ts";
import * as Comlink from "comlink";
import { isCodedError } from "../../src/core/base/coded-error.ts";
import { problemFrom, type Problem } from "../../src/core/sparse/problem.ts";
import { relativeResidual } from "../../src/core/solver/certificate.ts";
import { applyUpdates } from "../../src/core/solver/updates/index.ts";
import type { SolveJobOutcome, SolveJobSummary, SolveSource, SolverWorkerApi } from "./api.ts";
import { delivered } from "./delivered.ts";
import { runJob, type JobIo, type KeptSystem } from "./run-job.ts";

/** The worker's sources are the problem sources, plus a CSR system a swarm unit already decoded. */
function loadSystem(source: SolveSource): Problem {
  if (source.kind === "csr") return { a: source.a, b: source.b, rhsIsAOnes: false };
  if (source.kind === "generated") return problemFrom(source, { kind: "ones" });
  return problemFrom(
    { kind: "matrix-market", text: source.matrixText },
    source.rhsText === undefined ? { kind: "ones" } : { kind: "matrix-market", text: source.rhsText },
  );
}

function errorOutcome(e: unknown): SolveJobOutcome {
  // Project errors are coded; a library's error may still carry a string code of its own.
  const code = isCodedError(e)
    ? e.code
    : typeof (e as { code?: unknown })?.code === "string"
      ? (e as { code: string }).code
      : "internal_error";
  const message = e instanceof Error ? e.message : String(e);
  return { ok: false, error: { code, message } };
}

/** The system of the last solve that asked for keepSystem (one client, one solve at a time). */
let kept: KeptSystem | null = null;

function transferSummary(summary: SolveJobSummary): SolveJobOutcome {
  return Comlink.transfer({ ok: true, summary }, [summary.x.buffer as ArrayBuffer]);
}

/** The job's io with callbacks the worker waits for before answering (see delivered.ts). */
function pageIo(
  onUpdate: JobIo["onUpdate"],
  cancelFlag: Int32Array | null,
  mailbox: SharedArrayBuffer | null,
  onEvent: JobIo["onEvent"] | undefined,
): { io: JobIo; settled: () => Promise<void> } {
  const updates = delivered(onUpdate);
  const events = onEvent ? delivered(onEvent) : null;
  return {
    io: { onUpdate: updates.call, cancelFlag, mailbox, onEvent: events?.call ?? null },
    settled: async () => {
      await updates.settled();
      await events?.settled();
    },
  };
}

const api: SolverWorkerApi = {
  async solve(source, jobOptions, onUpdate, cancelFlag, mailbox = null, onEvent) {
    const setupStart = performance.now();
    kept = null; // a failed solve must not leave an older system to be updated
    try {
      const { a, b, rhsIsAOnes } = loadSystem(source);
      const { io, settled } = pageIo(onUpdate, cancelFlag, mailbox, onEvent);
      const run = await runJob({ name: source.name, a, b, rhsIsAOnes, setupStart }, jobOptions, io, null);
      await settled();
      kept = jobOptions.keepSystem === true ? run.kept : null;
      return transferSummary(run.summary);
    } catch (e) {
      return errorOutcome(e);
    }
  },

  async resolveWarm(updates, seq, jobOptions, onUpdate, cancelFlag, mailbox, onEvent) {
    const setupStart = performance.now();
    try {
      if (kept === null) {
        const message = "no solved system is kept in the solver worker: solve first (with keepSystem)";
        return { ok: false, error: { code: "no_kept_system", message } };
      }
      // Throws SolverError update_* on a bad batch: `kept` is left as it was.
      const sys = applyUpdates(kept.a, kept.b, updates);
      const applied = {
        type: "update_applied" as const,
        seq,
        iteration: 0,
        matrixEntries: updates.matrix?.length ?? 0,
        rhsEntries: updates.rhs?.length ?? 0,
        newEntries: sys.newEntries,
        residualBefore: relativeResidual(kept.a, kept.x, kept.b),
        residualAfter: relativeResidual(sys.a, kept.x, sys.b),
      };
      const { io, settled } = pageIo(onUpdate, cancelFlag, mailbox, onEvent);
      const system = { name: kept.name, a: sys.a, b: sys.b, rhsIsAOnes: false, setupStart };
      const run = await runJob(system, jobOptions, io, { x0: kept.x, applied });
      await settled();
      if (jobOptions.keepSystem === true) kept = run.kept;
      return transferSummary(run.summary);
    } catch (e) {
      return errorOutcome(e);
    }
  },
};

Comlink.expose(api);
