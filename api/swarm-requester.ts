import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { FileJobStore } from "../src/node/file-job-store.ts";
import { FileIdentityStore } from "../src/node/identity-file.ts";
import type { NodeRequester } from "../src/node/requester.ts";
import type { SwarmSettings } from "./swarm-config.ts";

/**
 * The server's own requester: a Node peer on the same core as `open-swarm submit` (NodeRequester: the
 * Dashboard's placement, leases and verification by residual), with its identity file in the configured data
 * dir. It joins lazily, at the first session that may use the swarm: the server's own origin is only known
 * once it listens and a request arrived (the API is mounted before that), a server nobody asks to solve
 * never loads libwebrtc, and a server whose swarm is unreachable starts and serves anyway.
 *
 * One join at a time: a session waits for it at most `joinTimeoutMs` (then computes on the server), while
 * the join itself goes on and is adopted whenever it completes (the directory client keeps retrying, so a
 * second one would only add a second retrying socket). The origin is probed first (GET /api/v1/health), so
 * a server that cannot reach itself fails fast instead of leaving a join retrying forever. A failed join is
 * logged and counted, and retried only after `rejoinAfterMs`: sessions meanwhile go straight to the threads.
 */
export class ServerSwarm {
  #requester: NodeRequester | null = null;
  /** The join under way (null when none is). */
  #joining: Promise<NodeRequester | null> | null = null;
  #failedAtMs = Number.NEGATIVE_INFINITY;
  #closed = false;
  /** Jobs are transient (a session does not outlive the process): a fresh directory per process. */
  #jobsDir: string | null = null;
  readonly #watchers = new Set<() => void>();

  constructor(
    private readonly settings: SwarmSettings,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
  ) {}

  /** The peer id of the joined requester (null before the join or after a failed one). */
  get peerId(): string | null {
    return this.#requester?.swarm.identity.peerId ?? null;
  }

  /**
   * How the requester's attempts on volunteers ended since it joined (its scheduler's read-only counts:
   * verified, invalid-result, heartbeat-timeout, ...); empty before the join.
   */
  attemptEnds(): Readonly<Record<string, number>> {
    return this.#requester?.runtime.scheduler.attemptEnds() ?? {};
  }

  /** A join is under way. */
  get joining(): boolean {
    return this.#joining !== null;
  }

  /** The joined requester, joining first if needed; null if the swarm is not joined within joinTimeoutMs. */
  async requester(origin: string): Promise<NodeRequester | null> {
    if (this.#closed) return null;
    if (this.#requester !== null) return this.#requester;
    if (this.#joining === null) {
      if (Date.now() - this.#failedAtMs < this.settings.rejoinAfterMs) return null;
      this.#joining = this.#join(origin).finally(() => (this.#joining = null));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>(
      (resolve) => (timer = setTimeout(resolve, this.settings.joinTimeoutMs, null)),
    );
    try {
      return await Promise.race([this.#joining, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Called after anything the requester runtime tracks changed (and at least once per tick). */
  watch(onChange: () => void): () => void {
    this.#watchers.add(onChange);
    return () => this.#watchers.delete(onChange);
  }

  /** A join still under way is not waited for: it sees #closed when it completes and closes itself. */
  async close(): Promise<void> {
    this.#closed = true;
    const requester = this.#requester;
    this.#requester = null;
    await requester?.close().catch(() => undefined);
    if (this.#jobsDir !== null) await rm(this.#jobsDir, { recursive: true, force: true });
  }

  async #join(origin: string): Promise<NodeRequester | null> {
    try {
      const health = await fetch(`${origin}/api/v1/health`, {
        signal: AbortSignal.timeout(this.settings.joinTimeoutMs),
      });
      if (!health.ok) throw new Error(`${origin}/api/v1/health answered ${health.status}`);
      this.#jobsDir ??= await mkdtemp(path.join(tmpdir(), "open-swarm-api-jobs-"));
      // Loaded here, not at the top: the native WebRTC module is only needed once the swarm is used.
      const { NodeRequester } = await import("../src/node/requester.ts");
      const requester = await NodeRequester.start({
        server: origin,
        identityStore: new FileIdentityStore(path.join(this.settings.dataDir, "identity.json")),
        store: new FileJobStore(this.#jobsDir),
        onChange: () => {
          for (const watcher of [...this.#watchers]) watcher();
        },
        onError: (message) => this.logger.warn({ event: "api_swarm_requester_error", message }),
      });
      if (this.#closed) {
        await requester.close();
        return null;
      }
      this.#requester = requester;
      this.logger.info(
        { event: "api_swarm_joined", peer: requester.swarm.identity.peerId, origin },
        "the API's requester joined the swarm: sessions go to volunteers when any are online",
      );
      return requester;
    } catch (error) {
      this.#failedAtMs = Date.now();
      this.metrics.api.swarmJoinFailures++;
      this.logger.warn(
        { event: "api_swarm_join_failed", error: String(error), retryInMs: this.settings.rejoinAfterMs },
        "the API's requester could not join the swarm: sessions compute on the server",
      );
      return null;
    }
  }
}
