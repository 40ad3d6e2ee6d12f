import {
  announceOnLinks,
  ExpertHost,
  type ExpertHostFault,
  type HostRunner,
  SITE_MANIFEST_PATH,
  siteModelLookups,
} from "../core/experts/host/index.ts";
import type { ExpertLink } from "../core/experts/link/index.ts";
import { type FetchedManifest, fetchManifest, SessionPool } from "../core/experts/models/index.ts";
import type { Mesh } from "../core/net/mesh.ts";
import { FileModelCache } from "./model-file-cache.ts";
import { NodeOrtRuntime } from "./ort-session-runtime.ts";

export interface NodeExpertHostOptions {
  /** The server's origin: its manifest and model files are fetched from there, as a tab fetches them. */
  readonly server: string;
  /** Where links open (each new peer is told an expert host runs here). */
  readonly mesh: Pick<Mesh, "on">;
  readonly link: ExpertLink;
  /** Where verified model bytes are kept between runs. */
  readonly modelCacheDir: string;
  /** ORT intra-op threads per session (default 1). */
  readonly threads?: number;
  /** TEST ONLY: a misbehaving host (core/experts/host/faults.ts), as a tab's ?xp-fault= gives it. */
  readonly fault?: ExpertHostFault;
}

export interface NodeExpertHost {
  readonly host: ExpertHost;
  readonly manifest: FetchedManifest;
  /** Stops serving (requesters told `paused` first, so they reroute at once), unloads every model. */
  close(): Promise<void>;
}

/**
 * `open-swarm volunteer --experts`: the tab's ExpertHost (same protocol, limits and checks) on a Node peer.
 * Only the ORT binding differs: core's SessionPool (what the tab's expert worker runs: bytes fetched by URL
 * and checked against their sha256, graph inputs checked, the site's models warmed up as they load) over
 * onnxruntime-node, with the bytes cached on disk. The manifest is the server's own, fetched as a tab
 * fetches it; a server without one cannot be hosted for (an ExpertError says why, nothing starts).
 * Models that are not the site's are refused (not_in_manifest), a tab's default.
 */
export async function startNodeExpertHost(options: NodeExpertHostOptions): Promise<NodeExpertHost> {
  const manifest = await fetchManifest(new URL(SITE_MANIFEST_PATH, options.server).href, (url) => fetch(url));
  const pool = new SessionPool(
    new NodeOrtRuntime(options.threads ?? 1),
    { cache: new FileModelCache(options.modelCacheDir), fetch: (url, init) => fetch(url, init) },
    { preference: "wasm" },
  );
  const runner: HostRunner = {
    // What the sessions really run on (native CPU); display only, a requester never trusts it.
    provider: "cpu",
    load: (source) => pool.load(source),
    run: (sha256, input, rows) => pool.run(sha256, input, rows),
    unload: (sha256) => pool.unload(sha256),
  };
  const host = new ExpertHost({
    link: options.link,
    runner,
    ...siteModelLookups(manifest),
    ...(options.fault ? { fault: options.fault } : {}),
  });
  const off = announceOnLinks(host, options.link, options.mesh);
  return {
    host,
    manifest,
    async close() {
      off();
      host.pause();
      await host.close();
    },
  };
}
