import type { ExpertHostStats } from "../../core/experts/host/host.ts";
import type { RouterStatsSnapshot } from "../../core/experts/router/types.ts";
import { sha256Hex } from "../../core/base/digest.ts";
import type { XpHosting } from "../../core/protocol/experts.ts";
import { bootedExperts, type BootedExperts, type ExpertsRuntime } from "./boot.ts";
import type { ExpertsStore } from "./store.ts";
import type { ClassifyJobTimeline, ExpertsJobError, ExpertsJobPhase } from "./types.ts";

/**
 * The experts view under ?test=1: `window.openSwarm.expertJobs` drives this tab's classify jobs from
 * Playwright (page.evaluate) and reads their state as plain JSON:
 *
 *   await window.openSwarm!.expertJobs!.ready;                        // host running, jobs accepted
 *   const job = await window.openSwarm!.expertJobs!.classifyTestSet(1000);   // resolves when done or failed
 *   await window.openSwarm!.expertJobs!.classifyTestSet(1000, { firstBatchTo: peerId });  // forced (below)
 *   job.predictions / job.accuracy / job.rowsPerExpert / job.rowsBySource
 *   window.openSwarm!.expertJobs!.state()                             // { classify, router, host, manifest }
 *   await window.openSwarm!.expertJobs!.wholeGraph()                  // moe-int8 on the last job's inputs, here
 *   await window.openSwarm!.expertJobs!.sendModelTo(peerId, bytes, "x.onnx")  // a hostile requester (below)
 *
 * (The expert runner's own hook, experts/test-hook.ts, is another file.)
 */
export interface ClassifySnapshot {
  readonly id: number;
  readonly phase: ExpertsJobPhase;
  readonly rows: number;
  readonly rowsDone: number;
  readonly predictions: number[] | null;
  readonly labels: number[] | null;
  readonly accuracy: number | null;
  readonly rowsPerExpert: readonly number[];
  readonly chosenPerExpert: readonly number[];
  readonly rowsBySource: Readonly<Record<string, number>>;
  readonly elapsedMs: number | null;
  readonly timeline: ClassifyJobTimeline | null;
  readonly error: ExpertsJobError | null;
}

export interface ExpertJobsSnapshot {
  readonly manifestStatus: string;
  readonly classify: ClassifySnapshot | null;
  readonly router: RouterStatsSnapshot | null;
  readonly host: ExpertHostStats | null;
  readonly hostedNames: Readonly<Record<string, string>>;
}

export interface WholeGraphComparison {
  readonly rows: number;
  /** moe-V's predictions, computed in this tab on the same inputs as the last classify job. */
  readonly predictions: number[];
  /** Rows where the swarm's prediction differs (null when the last job has no predictions). */
  readonly mismatches: number | null;
  readonly accuracy: number | null;
}

/**
 * TEST ONLY: `firstBatchTo` forces one of the job's first batches onto each peer named
 * (ClassifyOptions.testFirstBatchTo): the job waits up to `firstBatchWaitMs` (default 30 s) for every one
 * of them to serve one of its experts, then sends each a batch before any other. A test about what a host
 * does with a batch (serves it, dies holding it, lies about it) thereby does not depend on the router
 * happening to choose that host; when a peer never serves an expert, the job fails with an error saying so.
 */
export interface ClassifyTestSetOptions {
  readonly firstBatchTo?: string | readonly string[];
  readonly firstBatchWaitMs?: number;
}

const DEFAULT_FIRST_BATCH_WAIT_MS = 30_000;

export interface ExpertJobsTestHook {
  readonly store: ExpertsStore;
  readonly ready: Promise<void>;
  classifyTestSet(count: number, options?: ClassifyTestSetOptions): Promise<ClassifySnapshot>;
  state(): ExpertJobsSnapshot;
  wholeGraph(): Promise<WholeGraphComparison>;
  /**
   * TEST ONLY, a purpose-built hostile requester: sends `bytes` (any ONNX, e.g. a ConstantOfShape bomb) to
   * `peerId`'s expert host as a blob and a host-request naming only it, as a modified client may; resolves
   * with the host's `hosting` answer and how long it took. (The request replaces this tab's set on that
   * host: use it from a tab whose router is not using that host.)
   */
  sendModelTo(peerId: string, bytes: readonly number[], label: string): Promise<HostileAnswer>;
}

export interface HostileAnswer {
  readonly hosting: XpHosting;
  readonly ms: number;
}

declare module "../test-hook.ts" {
  interface OpenSwarmTestHook {
    expertJobs?: ExpertJobsTestHook;
  }
}

/** Adds `expertJobs` to window.openSwarm (call after installTestHook; bootExperts must have run). */
export function installExpertJobsTestHook(win: Window): void {
  const booted = bootedExperts();
  if (!win.openSwarm || !booted) return;
  (win.openSwarm as { expertJobs?: ExpertJobsTestHook }).expertJobs = createHook(booted);
}

function createHook(booted: BootedExperts): ExpertJobsTestHook {
  const { store } = booted;
  const runtime = (): Promise<ExpertsRuntime> => booted.ready;
  return {
    store,
    ready: booted.ready.then(() => undefined),
    async classifyTestSet(count, options = {}) {
      if (options.firstBatchTo === undefined) await store.getState().actions.classifyTestSet(count);
      else {
        // Straight to the runtime: the store's action (the UI's) has no test-only parameter.
        const { jobs } = await runtime();
        const to = options.firstBatchTo;
        await jobs.classifyTestSet(count, {
          peerIds: typeof to === "string" ? [to] : [...to],
          waitMs: options.firstBatchWaitMs ?? DEFAULT_FIRST_BATCH_WAIT_MS,
        });
      }
      const snapshot = classifySnapshot(store);
      if (!snapshot) throw new Error("the classify job left no state");
      return snapshot;
    },
    state() {
      const s = store.getState();
      return {
        manifestStatus: s.manifest.status,
        classify: classifySnapshot(store),
        router: s.router,
        host: s.host,
        hostedNames: s.hostedNames,
      };
    },
    async sendModelTo(peerId, values, label) {
      const { link } = await runtime();
      const bytes = Uint8Array.from(values);
      const sha256 = await sha256Hex(bytes);
      const requestId = `hostile-${Math.random().toString(36).slice(2, 10)}`;
      const started = performance.now();
      const answer = new Promise<XpHosting>((resolve) => {
        const off = link.onMessage((from, m) => {
          if (from !== peerId || m.kind !== "hosting" || m.requestId !== requestId) return;
          off();
          resolve(m);
        });
      });
      await link.sendModelBytes(peerId, bytes);
      await link.send(peerId, {
        kind: "host-request",
        requestId,
        models: [{ source: "blob", sha256, bytes: bytes.byteLength, label }],
      });
      const hosting = await answer;
      return { hosting, ms: performance.now() - started };
    },
    async wholeGraph() {
      const { jobs } = await runtime();
      const input = jobs.lastInput;
      if (!input) throw new Error("no classify job has run in this tab yet");
      const predictions = await jobs.wholeGraphPredictions(input.pixels, input.rows);
      const swarm = store.getState().classify?.predictions ?? null;
      let mismatches: number | null = null;
      if (swarm && swarm.length === predictions.length) {
        mismatches = 0;
        for (let i = 0; i < predictions.length; i++) if (predictions[i] !== swarm[i]) mismatches++;
      }
      let accuracy: number | null = null;
      if (input.labels) {
        let correct = 0;
        for (let i = 0; i < input.rows; i++) if (predictions[i] === input.labels[i]) correct++;
        accuracy = correct / input.rows;
      }
      return { rows: input.rows, predictions: [...predictions], mismatches, accuracy };
    },
  };
}

function classifySnapshot(store: ExpertsStore): ClassifySnapshot | null {
  const job = store.getState().classify;
  if (!job) return null;
  return {
    id: job.id,
    phase: job.phase,
    rows: job.rows,
    rowsDone: job.rowsDone,
    predictions: job.predictions ? [...job.predictions] : null,
    labels: job.labels ? [...job.labels] : null,
    accuracy: job.accuracy,
    rowsPerExpert: job.rowsPerExpert,
    chosenPerExpert: job.chosenPerExpert,
    rowsBySource: job.rowsBySource,
    elapsedMs: job.elapsedMs,
    timeline: job.timeline,
    error: job.error,
  };
}
