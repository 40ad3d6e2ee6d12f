import type { DirectoryPeer } from "../protocol/directory.ts";
import type { Watch } from "../protocol/directory-query.ts";
import { MAX_WATCHED_PEER_IDS } from "../protocol/directory-query.ts";

/** What introductions need of the directory client (directory-client.ts). */
export interface IntroducingDirectory {
  readonly peers: readonly DirectoryPeer[];
  subscribe(watch: Watch): Promise<{ id: string; online: readonly DirectoryPeer[] }>;
  unsubscribe(id: string): void;
}

/**
 * Asks the directory to acquaint this peer with peers it was told to work with but does not know (issue 12,
 * the overlay): a distributed block's neighbouring holders are volunteers of the same requester, and in a
 * large swarm two of them need not be acquainted, so neither would admit a link from the other. A
 * subscription to their ids makes the server acquaint both sides (signaling/directory/registry.ts) and
 * this client list them (so the mesh may dial); it is dropped as soon as it answered, since only the
 * acquaintance was wanted. Asks made in one task go out as one subscription (the server rate-limits them);
 * a failed one (rate limit, no session) is counted and the caller's fallback stands (a relayed halo).
 */
export class Introductions {
  readonly stats = { asked: 0, answered: 0, failed: 0 };
  readonly #directory: IntroducingDirectory;
  #batch = new Set<string>();

  constructor(directory: IntroducingDirectory) {
    this.#directory = directory;
  }

  /** `peerId` should be known (a link to it is wanted); asks the directory unless it is already. */
  ask(peerId: string): void {
    if (this.#directory.peers.some((p) => p.peerId === peerId)) return;
    if (this.#batch.size >= MAX_WATCHED_PEER_IDS) return; // not asked: its link falls back (a relay)
    if (this.#batch.size === 0) queueMicrotask(() => void this.#flush());
    this.#batch.add(peerId);
  }

  async #flush(): Promise<void> {
    const peerIds = [...this.#batch];
    this.#batch = new Set();
    if (peerIds.length === 0) return;
    this.stats.asked++;
    try {
      const { id } = await this.#directory.subscribe({ kind: "peers", peerIds });
      this.#directory.unsubscribe(id);
      this.stats.answered++;
    } catch {
      this.stats.failed++;
    }
  }
}
