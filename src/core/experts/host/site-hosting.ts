import type { Mesh } from "../../net/mesh.ts";
import type { ExpertLink } from "../link/expert-link.ts";
import { type FetchedManifest, manifestByDigest, manifestResolver } from "../models/index.ts";
import type { ExpertHost } from "./host.ts";
import type { ExpertHostOptions } from "./types.ts";

/**
 * What a tab (state/experts/boot.ts) and a Node volunteer (`open-swarm volunteer --experts`,
 * node/expert-host.ts) do alike to host experts on a swarm, so both behave the same to a requester:
 * the site's models come from the manifest the site serves (fetched, its files resolved against its URL),
 * and every peer is told an expert host runs here as its link opens.
 */

/** Where the site serves its model manifest (public/models/manifest.json). */
export const SITE_MANIFEST_PATH = "/models/manifest.json";

/** The host's view of the site's models: a requester's offer is loaded from the site's copy when its digest
 *  (and file) is the site's; without a manifest nothing is. */
export function siteModelLookups(
  fetched: FetchedManifest | null,
): Pick<ExpertHostOptions, "resolveManifest" | "manifestByDigest"> {
  if (!fetched) return { resolveManifest: () => undefined, manifestByDigest: () => undefined };
  const urlOf = (file: string) => new URL(file, fetched.url).href;
  return {
    resolveManifest: manifestResolver(fetched.manifest, urlOf),
    manifestByDigest: manifestByDigest(fetched.manifest, urlOf),
  };
}

/**
 * Tells every linked peer (this one too, through the link's loopback) that an expert host runs here, now and
 * as each new link opens: routers place experts only on peers that announced (a peer that only solves is
 * never waited on). Returns the unsubscribe.
 */
export function announceOnLinks(host: ExpertHost, link: ExpertLink, mesh: Pick<Mesh, "on">): () => void {
  host.announce(link.connectedPeerIds());
  return mesh.on("peer-open", (event) => host.announce([event.peerId]));
}
