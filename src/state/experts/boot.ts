import { type ExpertLink, meshExpertLink } from "../../core/experts/link/index.ts";
import {
  announceOnLinks,
  ExpertHost,
  type ExpertHostFault,
  type ExpertHostStats,
  type HostRunner,
  SITE_MANIFEST_PATH,
  siteModelLookups,
} from "../../core/experts/host/index.ts";
import { type FetchedManifest, fetchManifest } from "../../core/experts/models/index.ts";
import type { Swarm } from "../../core/net/swarm.ts";
import { type ExpertLinks, keepExpertLinks } from "../../core/experts/router/index.ts";
import { ExpertRunnerClient } from "../../../workers/experts/client.ts";
import { ExpertsJobs, type ExpertHostStore } from "./jobs.ts";
import { readHostAnyModel, saveHostAnyModel } from "./host-settings.ts";
import { createExpertsStore, type ExpertsStore } from "./store.ts";
import type { ManifestView } from "./types.ts";
import type { VolunteerStore } from "../jobs/index.ts";

/**
 * The tab's part in the swarm mixture-of-experts, both roles at once (like jobs/boot.ts):
 *  - volunteer: an ExpertHost serving whatever requesters ask it to host, on its own expert worker; it
 *    follows the Contribute view's pause control (and pause-while-hidden) through the volunteer store;
 *  - requester: ExpertsJobs (classify jobs through the ExpertRouter, the generic ONNX job) on a second
 *    expert worker, so a host releasing a model never pulls a session from under the router.
 * Both share one ExpertLink: the router reaches this tab's own host through the link's loopback, so one tab
 * alone completes a job. Workers start on first use, not at page load.
 */
export interface ExpertsRuntime {
  readonly link: ExpertLink;
  readonly host: ExpertHost;
  readonly jobs: ExpertsJobs;
  readonly manifest: FetchedManifest | null;
}

export interface BootedExperts {
  readonly store: ExpertsStore;
  /** Resolves once the host runs and the jobs accept work (rejects when the swarm did not start). */
  readonly ready: Promise<ExpertsRuntime>;
}

const HOST_STATS_MS = 200;

let current: BootedExperts | null = null;

/** The experts of this page, once bootExperts ran (the test hook reads it). */
export interface BootExpertsOptions {
  /** Where the router keeps the hosts' reputation and bans across sessions (none: this session only). */
  readonly hostRecords?: ExpertHostStore | null;
  /** TEST ONLY (test-mode.ts): creates the fault injected into this tab's expert host; none by default. */
  readonly fault?: (() => Promise<ExpertHostFault | null>) | undefined;
  /** TEST ONLY (test-mode.ts): the provider this tab's host falsely announces (a lying client's claim). */
  readonly claimProvider?: (() => Promise<"webgpu" | "wasm" | null>) | undefined;
  /** false: new hosts earn trust in jobs only (TEST ONLY: test-mode.ts testQualifyHosts). Default true. */
  readonly qualifyHosts?: boolean;
}

export function bootedExperts(): BootedExperts | null {
  return current;
}

export function bootExperts(
  win: Window,
  swarmReady: Promise<Swarm>,
  volunteer: VolunteerStore,
  options: BootExpertsOptions = {},
): BootedExperts {
  const store = createExpertsStore({ hostAnyModel: readHostAnyModel(win) });
  const manifest = loadManifest(win, store);
  const ready = swarmReady.then(async (swarm) => {
    const link = meshExpertLink(swarm.mesh);
    const fetched = await manifest;
    const fault = await options.fault?.();
    const claim = (await options.claimProvider?.()) ?? null;
    const hostRunner = claim === null ? lazyRunner() : claiming(lazyRunner(), claim);
    const host = new ExpertHost({
      link,
      runner: hostRunner,
      ...siteModelLookups(fetched),
      // A model that is not the site's gets a worker of its own: a time limit terminates it, and only it.
      isolatedRunner: () => new ExpertRunnerClient(),
      allowNonManifest: store.getState().hostAnyModel,
      ...(fault ? { fault } : {}),
    });
    store.subscribe((state, previous) => {
      if (state.hostAnyModel === previous.hostAnyModel) return;
      host.setAllowNonManifest(state.hostAnyModel);
      saveHostAnyModel(win, state.hostAnyModel);
    });
    const jobs = new ExpertsJobs({
      store,
      link,
      runner: lazyRunner(),
      manifest,
      hostRecords: options.hostRecords ?? null,
      qualifyHosts: options.qualifyHosts ?? true,
      onWantsHosts: () => links.check(),
    });
    const links: ExpertLinks = keepExpertLinks(swarm, jobs);
    store.attach(jobs);

    let timer: ReturnType<typeof setTimeout> | null = null;
    const publish = (stats: ExpertHostStats) => {
      store.setState({ host: stats, hostedNames: namesFor(stats.hosted, fetched) });
    };
    publish(host.stats());
    host.on("stats", () => {
      timer ??= setTimeout(() => {
        timer = null;
        publish(host.stats());
      }, HOST_STATS_MS);
    });

    // The Contribute view's pause (or pause-while-hidden) pauses hosting too: queued batches are answered
    // `paused` at once, so requesters reroute instead of waiting.
    const follow = (status: string) => (status === "paused" ? host.pause() : host.resume());
    follow(volunteer.getState().status);
    volunteer.subscribe((state, previous) => {
      if (state.status !== previous.status) follow(state.status);
    });

    // Tell every peer (this tab too) that an expert host runs here (as a Node volunteer with --experts does).
    announceOnLinks(host, link, swarm.mesh);
    swarm.mesh.on("peer-open", () => jobs.volunteersChanged());
    swarm.mesh.on("peer-close", () => jobs.volunteersChanged());
    return { link, host, jobs, manifest: fetched };
  });
  ready.catch((error: unknown) => store.fail(error));
  current = { store, ready };
  return current;
}

/** Fetches the manifest once; the store's manifest view says what happened. Null when there is none. */
async function loadManifest(win: Window, store: ExpertsStore): Promise<FetchedManifest | null> {
  const url = new URL(SITE_MANIFEST_PATH, win.location.origin).href;
  let status = 0;
  try {
    const fetched = await fetchManifest(url, async (u) => {
      const response = await fetch(u);
      status = response.status;
      return response;
    });
    const m = fetched.manifest;
    const expert = m.models.find((model) => model.role === "expert" && model.variant === "int8");
    const view: ManifestView = {
      status: "ready",
      error: null,
      classes: m.classes,
      experts: m.experts,
      topK: m.topK,
      accuracy: { fp32: m.accuracy.fp32, int8: m.accuracy.int8, testImages: m.accuracy.testImages },
      expertBytes: expert?.bytes ?? 0,
    };
    store.setState({ manifest: view });
    return fetched;
  } catch (error) {
    const missing = status === 404;
    store.setState({
      manifest: {
        ...store.getState().manifest,
        status: missing ? "missing" : "error",
        error: missing
          ? `this site has no models (${SITE_MANIFEST_PATH} is missing: run npm run models:build)`
          : error instanceof Error
            ? error.message
            : String(error),
      },
    });
    return null;
  }
}

function namesFor(hosted: readonly string[], fetched: FetchedManifest | null): Record<string, string> {
  const names: Record<string, string> = {};
  for (const sha of hosted) {
    const entry = fetched?.manifest.models.find((m) => m.sha256 === sha);
    names[sha] = entry ? `${entry.name} (${entry.variant})` : `uploaded model ${sha.slice(0, 10)}`;
  }
  return names;
}

/** A ModelRunner whose expert worker starts on the first load (most tabs never host or classify). Disposing
 *  it terminates the worker (a host's time limit); the next call starts a fresh one. */
function lazyRunner(): HostRunner {
  let client: ExpertRunnerClient | null = null;
  const get = () => (client ??= new ExpertRunnerClient());
  return {
    get provider() {
      return client?.provider ?? "wasm";
    },
    load: (source) => get().load(source),
    run: (sha256, input, rows) => get().run(sha256, input, rows),
    unload: async (sha256) => {
      if (client) await client.unload(sha256);
    },
    dispose: () => {
      client?.dispose();
      client = null;
    },
  };
}

/** TEST ONLY (?xp-claim=): the runner, announcing `provider` whatever it really runs on. */
function claiming(runner: HostRunner, provider: "webgpu" | "wasm"): HostRunner {
  return {
    provider,
    load: (source) => runner.load(source),
    run: (sha256, input, rows) => runner.run(sha256, input, rows),
    unload: (sha256) => runner.unload(sha256),
    dispose: () => runner.dispose?.(),
  };
}
