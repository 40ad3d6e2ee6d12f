import {
  announceOnLinks,
  ExpertHost,
  type ExpertHostFault,
  type HostRunner,
  SITE_MANIFEST_PATH,
  siteModelLookups,
} from "../core/experts/host/index.ts";
import type { ExpertLink } from "../core/experts/link/index.ts";
import { type FetchedManifest, fetchManifest } from "../core/experts/models/index.ts";
import type { Mesh } from "../core/net/mesh.ts";
import { nodeSessionRunner } from "./node-session-runner.ts";

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
 * Only the ORT binding differs (node-session-runner.ts: core's SessionPool over onnxruntime-node, the bytes
 * cached on disk). The manifest is the server's own, fetched as a tab
 * fetches it; a server without one cannot be hosted for (an ExpertError says why, nothing starts).
 * Models that are not the site's are refused (not_in_manifest), a tab's default.
 */
export async function startNodeExpertHost(options: NodeExpertHostOptions): Promise<NodeExpertHost> {
  const manifest = await fetchManifest(new URL(SITE_MANIFEST_PATH, options.server).href, (url) => fetch(url));
  const runner: HostRunner = nodeSessionRunner({
    modelCacheDir: options.modelCacheDir,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
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
