import {
  DIRECTORY_PROTOCOL_VERSION,
  type DirectoryClientMessage,
  type DirectoryErrorCode,
  type DirectoryServerMessage,
} from "../../src/core/protocol/directory.ts";
import { MAX_QUERY_K } from "../../src/core/protocol/directory-query.ts";
import { TokenBucket } from "../limits/token-bucket.ts";
import type { ServerMetrics } from "../metrics.ts";
import type { DirectoryRegistry, DirectorySession } from "./registry.ts";

type QueryMessage = Extract<DirectoryClientMessage, { type: "query" | "subscribe" | "unsubscribe" }>;

export interface QueryContext {
  readonly registry: DirectoryRegistry;
  readonly metrics: ServerMetrics;
  readonly config: { readonly queryRatePerS: number; readonly queryBurst: number };
}

/**
 * One joined session's queries and subscriptions. Queries and subscribes share a token bucket (each costs
 * a pass over the swarm); an answer or a refusal always carries the asker's id so it can match them up.
 */
export class SessionQueries {
  private readonly bucket: TokenBucket;

  constructor(
    private readonly session: DirectorySession,
    private readonly ctx: QueryContext,
    private readonly send: (message: DirectoryServerMessage) => void,
    /** Counts and answers a refusal (the connection's reject, which also counts toward its invalid limit). */
    private readonly reject: (code: DirectoryErrorCode, detail: string, id: string) => void,
  ) {
    this.bucket = new TokenBucket(ctx.config.queryRatePerS, ctx.config.queryBurst, Date.now());
  }

  handle(message: QueryMessage): void {
    const { registry, metrics } = this.ctx;
    if (message.type === "unsubscribe") {
      if (!registry.unsubscribe(this.session, message.id)) {
        this.reject("unknown_subscription", `no subscription '${message.id}'`, message.id);
      }
      return;
    }
    if (!this.bucket.take(Date.now())) {
      metrics.queriesRefused++;
      this.reject("rate_limited", `at most ${this.ctx.config.queryRatePerS} queries/s`, message.id);
      return;
    }
    if (message.type === "query") {
      const { peers, matched } = registry.query(this.session, message.filter, message.k);
      metrics.queriesAnswered++;
      this.send({
        v: DIRECTORY_PROTOCOL_VERSION,
        type: "query-result",
        id: message.id,
        peers,
        matched,
        total: registry.othersOnline,
      });
      return;
    }
    const result = registry.subscribe(this.session, message.id, message.watch, MAX_QUERY_K);
    if (!result.ok) {
      this.reject(result.code, result.detail, message.id);
      return;
    }
    this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "subscribed", id: message.id, online: result.online });
  }
}
