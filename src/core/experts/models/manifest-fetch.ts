import { findModel, manifestSchema, type ModelManifest, type ModelVariant } from "../../protocol/manifest.ts";
import { ExpertError, type ModelSource } from "./runner.ts";

/**
 * Fetching public/models/manifest.json and turning its entries into ModelSources whose URLs are resolved
 * against the manifest's own URL (entries name files relative to it).
 */
export type JsonFetch = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface FetchedManifest {
  readonly manifest: ModelManifest;
  /** Absolute URL the manifest was read from. */
  readonly url: string;
}

/** Errors: fetch_failed (network, HTTP status), corrupt_model (not JSON, or not a valid manifest). */
export async function fetchManifest(url: string, fetchJson: JsonFetch): Promise<FetchedManifest> {
  let body: unknown;
  try {
    const response = await fetchJson(url);
    if (!response.ok) throw new ExpertError("fetch_failed", `GET ${url} answered HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    if (error instanceof ExpertError) throw error;
    throw new ExpertError("fetch_failed", `GET ${url} failed: ${String(error)}`);
  }
  const parsed = manifestSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? `${first.path.join(".") || "(root)"}: ${first.message}` : "invalid";
    throw new ExpertError("corrupt_model", `${url} is not a valid model manifest (${where})`);
  }
  return { manifest: parsed.data, url };
}

/** The ModelSource for (name, variant); ExpertError("model_missing") when the manifest has no such model. */
export function manifestSource(fetched: FetchedManifest, name: string, variant: ModelVariant): ModelSource {
  const entry = findModel(fetched.manifest, name, variant);
  if (!entry) {
    throw new ExpertError(
      "model_missing",
      `the manifest at ${fetched.url} has no model ${name} (${variant})`,
    );
  }
  return { kind: "manifest", entry, url: new URL(entry.file, fetched.url).href };
}
