import { z } from "zod";
import type { Capabilities } from "./capabilities.ts";
import { PEER_ID_PATTERN } from "./ids.ts";

/**
 * The directory's query language (issue 12): instead of being pushed every peer, a peer asks the server for
 * "volunteers with WebGPU, ≥ 2 cores, not busy, k of them" (`query`), or subscribes to the joins and leaves
 * of such a filter or of a few peer ids it works with (`subscribe`). Every field of a filter is optional and
 * all given fields must hold (AND). Matching reads capabilities the peers reported about themselves: a
 * query finds candidates, it proves nothing (a requester still checks results and measures speed).
 *
 * Pure and shared: the server answers with `peerMatches`, and a client may re-check what it was given.
 */

/** Most peers one query may ask for (and a `query-result` may list). */
export const MAX_QUERY_K = 64;
/** Most expert names a filter may require. */
export const MAX_FILTER_EXPERTS = 8;
/** Most peer ids one subscription may watch. */
export const MAX_WATCHED_PEER_IDS = 64;
/** Most subscriptions one session may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_PEER = 8;

const BASE64URL_ID = /^[A-Za-z0-9_-]+$/;
/** A client-chosen id that ties a result (or an error) to its query or subscription. */
export const requestIdSchema = z.string().min(1).max(32).regex(BASE64URL_ID);
export const expertNameSchema = z.string().min(1).max(64);

export const peerFilterSchema = z
  .object({
    /** true: has WebGPU; false: has none. */
    webgpu: z.boolean().optional(),
    /** At least this many logical cores (hardwareConcurrency). */
    minCores: z.number().int().min(1).max(1024).optional(),
    wasmSimd: z.boolean().optional(),
    runtime: z.enum(["browser", "node"]).optional(),
    /** At least this CPU benchmark (MFLOP/s). */
    minMflops: z.number().nonnegative().max(1e7).optional(),
    /** Hosts every one of these experts. */
    experts: z.array(expertNameSchema).min(1).max(MAX_FILTER_EXPERTS).optional(),
    /** true: only peers that take work (not `volunteer: false`, a requester-only peer). */
    volunteers: z.boolean().optional(),
    /** true: only peers that do not report themselves busy. */
    notBusy: z.boolean().optional(),
  })
  // An unknown field is a typo or a newer client: refuse it rather than silently match everyone.
  .strict();
export type PeerFilter = z.infer<typeof peerFilterSchema>;

/** What a subscription watches: the peers matching a filter, or a fixed set of peer ids. */
export const watchSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("filter"), filter: peerFilterSchema }),
  z.object({
    kind: z.literal("peers"),
    peerIds: z.array(z.string().max(64).regex(PEER_ID_PATTERN)).min(1).max(MAX_WATCHED_PEER_IDS),
  }),
]);
export type Watch = z.infer<typeof watchSchema>;

/** True when a peer with these self-reported capabilities satisfies every field of the filter. */
export function peerMatches(capabilities: Capabilities, filter: PeerFilter): boolean {
  if (filter.webgpu !== undefined && (capabilities.webgpu !== null) !== filter.webgpu) return false;
  if (filter.minCores !== undefined && capabilities.hardwareConcurrency < filter.minCores) return false;
  if (filter.wasmSimd !== undefined && capabilities.wasm.simd !== filter.wasmSimd) return false;
  if (filter.runtime !== undefined && capabilities.runtime !== filter.runtime) return false;
  if (filter.minMflops !== undefined && capabilities.benchmarkMflops < filter.minMflops) return false;
  if (filter.notBusy === true && capabilities.busy === true) return false;
  if (filter.volunteers === true && capabilities.volunteer === false) return false;
  if (filter.experts !== undefined) {
    const hosted = capabilities.experts ?? [];
    if (!filter.experts.every((name) => hosted.includes(name))) return false;
  }
  return true;
}

/**
 * One string per distinct filter, whatever the field order, so identical subscriptions share one group
 * (the server bounds subscribers per group).
 */
export function filterKey(filter: PeerFilter): string {
  const entries = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]): [string, unknown] => [
      key,
      Array.isArray(value) ? [...new Set(value as string[])].sort() : value,
    ])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}
