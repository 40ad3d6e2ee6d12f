// The expert host as the rest of the code sees it (host.ts: the volunteer side of the swarm
// mixture-of-experts). The test-only fault it can be given is imported by path (faults.ts), so the product's
// bundle never holds it.
export { ExpertHost } from "./host.ts";
export type { ExpertHostStats, HostRunner } from "./types.ts";
export type { ExpertHostFault } from "./host-fault.ts";
export type { HostBatchEntry } from "./batch-log.ts";
export { SITE_MANIFEST_PATH, announceOnLinks, siteModelLookups } from "./site-hosting.ts";
