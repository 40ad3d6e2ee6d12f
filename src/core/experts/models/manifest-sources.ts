import { findModel, type ModelManifest, type ModelVariant } from "../../protocol/manifest.ts";
import type { ModelSource } from "./runner.ts";

/**
 * Model sources from the site's manifest, for the router (gate + experts of one variant, and the whole-graph
 * model for comparison) and for a host (a resolver from the digest a requester names to the entry it may
 * load). `urlOf` maps a manifest file name to where it is fetched from (e.g. `/models/${file}`).
 */
export function moeSourcesFromManifest(
  manifest: ModelManifest,
  variant: ModelVariant,
  urlOf: (file: string) => string,
): { gate: ModelSource; experts: ModelSource[]; moe: ModelSource | null } {
  const source = (name: string): ModelSource | null => {
    const entry = findModel(manifest, name, variant);
    return entry ? { kind: "manifest", entry, url: urlOf(entry.file) } : null;
  };
  const gate = source("gate");
  if (!gate) throw new Error(`the manifest has no gate-${variant}`);
  const experts: ModelSource[] = [];
  for (let i = 0; i < manifest.experts; i++) {
    const expert = source(`expert-${i}`);
    if (!expert) throw new Error(`the manifest has no expert-${i}-${variant}`);
    experts.push(expert);
  }
  return { gate, experts, moe: source("moe") };
}

/** The site's model with this digest, whatever it was called (ExpertHostOptions.manifestByDigest, and a
 *  requester's upload that is one of the site's models): the same bytes load the same way everywhere. */
export function manifestByDigest(
  manifest: ModelManifest,
  urlOf: (file: string) => string,
): (sha256: string) => ModelSource | undefined {
  return (sha256) => {
    const entry = manifest.models.find((m) => m.sha256 === sha256);
    return entry ? { kind: "manifest", entry, url: urlOf(entry.file) } : undefined;
  };
}

/** ExpertHostOptions.resolveManifest over a manifest: a model is offered when digest and file both match. */
export function manifestResolver(
  manifest: ModelManifest,
  urlOf: (file: string) => string,
): (sha256: string, file: string) => ModelSource | undefined {
  return (sha256, file) => {
    const entry = manifest.models.find((m) => m.sha256 === sha256 && m.file === file);
    return entry ? { kind: "manifest", entry, url: urlOf(entry.file) } : undefined;
  };
}
