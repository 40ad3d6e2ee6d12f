import type { Logger } from "pino";
import { WebSocket, type RawData } from "ws";
import { peerIdMatchesKey, verifySignature } from "../../src/core/identity/identity.ts";
import { fromBase64Url } from "../../src/core/base/encoding.ts";
import type { Capabilities } from "../../src/core/protocol/capabilities.ts";
import {
  DIRECTORY_CLOSE_CODES,
  DIRECTORY_PROTOCOL_VERSION,
  MAX_DIRECTORY_CLIENT_FRAME_BYTES,
  decodeDirectoryClientFrame,
  joinChallengeBytes,
  type DirectoryClientMessage,
  type DirectoryErrorCode,
  type DirectoryPeer,
  type DirectoryServerMessage,
} from "../../src/core/protocol/directory.ts";
import type { ServerConfig } from "../config.ts";
import { TokenBucket } from "../limits/token-bucket.ts";
import type { LogThrottle } from "../logger.ts";
import type { ServerMetrics } from "../metrics.ts";
import { randomToken } from "../random-token.ts";
import { banMessage, type DirectoryBans } from "./bans.ts";
import type { DirectoryRegistry, DirectorySession } from "./registry.ts";
import { UpdateThrottle } from "./update-throttle.ts";
import { SessionQueries } from "./queries.ts";

export interface DirectoryConnectionContext {
  readonly registry: DirectoryRegistry;
  /** Peer ids the operator banned: refused at join. */
  readonly bans: Pick<DirectoryBans, "get">;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly throttle: LogThrottle;
  readonly config: Pick<
    ServerConfig,
    | "maxInvalidMessages"
    | "joinTimeoutMs"
    | "messageRatePerS"
    | "messageBurst"
    | "maxPeers"
    | "maxBufferedBytes"
    | "capabilityUpdateIntervalMs"
    | "peerRequestIntervalMs"
    | "queryRatePerS"
    | "queryBurst"
  >;
}

type State = "awaiting-join" | "verifying" | "joined" | "closed";

/**
 * One directory WebSocket: challenge, join (proof of key possession), then capability updates and pings.
 * Everything a peer sends is checked here; a bad frame gets an `error` reply, never an exception.
 */
export class DirectoryConnection implements DirectorySession {
  /** Cleared before each heartbeat ping, set by the pong; still clear at the next beat = dead socket. */
  isAlive = true;
  private state: State = "awaiting-join";
  private readonly nonce = randomToken();
  private invalidCount = 0;
  private readonly bucket: TokenBucket;
  private readonly joinTimer: ReturnType<typeof setTimeout>;
  private joinedPeer: DirectoryPeer | null = null;
  private sessionToken = "";
  private readonly capabilityUpdates: UpdateThrottle<Capabilities>;
  private lastPeerRequestAtMs = Number.NEGATIVE_INFINITY;
  private queries: SessionQueries | null = null;

  constructor(
    private readonly ws: WebSocket,
    readonly ip: string,
    private readonly ctx: DirectoryConnectionContext,
  ) {
    this.bucket = new TokenBucket(ctx.config.messageRatePerS, ctx.config.messageBurst, Date.now());
    this.capabilityUpdates = new UpdateThrottle(
      ctx.config.capabilityUpdateIntervalMs,
      (capabilities) => this.applyCapabilities(capabilities),
      () => ctx.metrics.capabilityUpdatesCoalesced++,
    );
    ws.on("message", (data, isBinary) => this.onFrame(data, isBinary));
    ws.on("close", () => this.onClose());
    ws.on("error", (error) => this.onSocketError(error));
    ws.on("pong", () => {
      this.isAlive = true;
    });
    this.joinTimer = setTimeout(() => this.onJoinTimeout(), ctx.config.joinTimeoutMs);
    this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "challenge", nonce: this.nonce });
  }

  get peer(): DirectoryPeer {
    if (!this.joinedPeer) throw new Error("DirectoryConnection.peer read before join");
    return this.joinedPeer;
  }

  get token(): string {
    return this.sessionToken;
  }

  /** Heartbeat: ping, or drop the socket if the previous ping went unanswered. */
  heartbeat(): void {
    if (this.state === "closed") return;
    if (!this.isAlive) {
      this.ctx.metrics.heartbeatTimeouts++;
      this.ctx.logger.info({ event: "heartbeat_timeout", ip: this.ip, peerId: this.joinedPeer?.peerId });
      this.ws.terminate();
      return;
    }
    this.isAlive = false;
    this.ws.ping();
  }

  /** Closes with an error frame first, so the client knows why (used for replacement and shutdown). */
  evict(code: DirectoryErrorCode, message: string, closeCode: number): void {
    this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "error", code, message });
    this.ws.close(closeCode, code);
  }

  terminate(): void {
    this.ws.terminate();
  }

  sendSerialized(text: string, type: DirectoryServerMessage["type"]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    // A peer that does not read its socket would make us buffer every broadcast for it forever.
    if (this.ws.bufferedAmount > this.ctx.config.maxBufferedBytes) {
      this.ctx.metrics.slowConsumersDropped++;
      this.ctx.logger.warn({ event: "slow_consumer", ip: this.ip, bufferedBytes: this.ws.bufferedAmount });
      this.ws.terminate();
      return;
    }
    this.ws.send(text);
    this.ctx.metrics.messageOut(type);
  }

  private send(message: DirectoryServerMessage): void {
    this.sendSerialized(JSON.stringify(message), message.type);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.state === "closed") return;
    if (!this.bucket.take(Date.now())) {
      this.reject("rate_limited", `more than ${this.ctx.config.messageRatePerS} messages/s`);
      return;
    }
    if (isBinary) {
      this.reject("invalid_message", "binary frames are not part of the protocol");
      return;
    }
    const bytes = toBuffer(data);
    if (bytes.byteLength > MAX_DIRECTORY_CLIENT_FRAME_BYTES) {
      this.reject(
        "too_large",
        `frame of ${bytes.byteLength} bytes exceeds ${MAX_DIRECTORY_CLIENT_FRAME_BYTES}`,
      );
      return;
    }
    const decoded = decodeDirectoryClientFrame(bytes.toString("utf8"));
    if (!decoded.ok) {
      this.reject(decoded.code, decoded.detail, decoded.id);
      return;
    }
    this.ctx.metrics.messageIn(decoded.message.type);
    this.dispatch(decoded.message);
  }

  private dispatch(message: DirectoryClientMessage): void {
    switch (message.type) {
      case "join":
        if (this.state === "joined") this.reject("already_joined", "this connection has already joined");
        else if (this.state === "verifying")
          this.reject("invalid_message", "a join is already being checked");
        else
          this.join(message).catch((error: unknown) => {
            // Not expected (the checks never throw), but an async failure must not become a crash.
            this.ctx.logger.error({ event: "join_failed", ip: this.ip, error: String(error) });
            this.ws.terminate();
          });
        return;
      case "update-capabilities":
        if (this.state !== "joined" || !this.joinedPeer) {
          this.reject("not_joined", "join before updating capabilities");
          return;
        }
        // Throttled: one takes effect per interval, the latest of the others after it (counted).
        this.capabilityUpdates.offer(message.capabilities);
        return;
      case "ping":
        this.send({ v: DIRECTORY_PROTOCOL_VERSION, type: "pong", total: this.ctx.registry.othersOnline });
        return;
      case "request-peers":
        this.answerPeerRequest();
        return;
      case "query":
      case "subscribe":
      case "unsubscribe":
        if (!this.queries) this.reject("not_joined", "join before querying the directory", message.id);
        else this.queries.handle(message);
        return;
    }
  }

  private applyCapabilities(capabilities: Capabilities): void {
    if (this.state !== "joined" || !this.joinedPeer) return;
    const before = this.joinedPeer;
    this.joinedPeer = { ...before, capabilities };
    this.ctx.metrics.capabilityUpdatesApplied++;
    this.ctx.registry.update(this, before);
  }

  /** More peers for a session that knows too few (its acquaintances left); rate limited per connection. */
  private answerPeerRequest(): void {
    if (this.state !== "joined") {
      this.reject("not_joined", "join before requesting peers");
      return;
    }
    const nowMs = Date.now();
    const intervalMs = this.ctx.config.peerRequestIntervalMs;
    if (nowMs - this.lastPeerRequestAtMs < intervalMs) {
      this.ctx.metrics.peerRequestsRefused++;
      this.reject("rate_limited", `at most one request-peers per ${intervalMs} ms`);
      return;
    }
    this.lastPeerRequestAtMs = nowMs;
    this.ctx.metrics.peerRequestsAnswered++;
    this.send({
      v: DIRECTORY_PROTOCOL_VERSION,
      type: "peers-sample",
      peers: this.ctx.registry.extend(this),
      total: this.ctx.registry.othersOnline,
    });
  }

  private async join(message: Extract<DirectoryClientMessage, { type: "join" }>): Promise<void> {
    this.state = "verifying";
    const { peerId, publicKey } = message;
    if (!(await peerIdMatchesKey(peerId, publicKey))) {
      this.refuseJoin("id_mismatch", "peerId is not derived from publicKey", peerId);
      return;
    }
    const signatureOk = await verifySignature(
      publicKey,
      joinChallengeBytes(this.nonce),
      fromBase64Url(message.signature),
    );
    if (!signatureOk) {
      this.refuseJoin("bad_signature", "signature does not verify against publicKey and the nonce", peerId);
      return;
    }
    // The socket may have closed while the signature was being checked.
    if (this.state !== "verifying") return;
    // Checked once the key is proven: a ban is on the id, and only its key holder learns of it.
    const ban = this.ctx.bans.get(peerId);
    if (ban !== undefined) {
      this.ctx.metrics.bans.joinsRefused++;
      this.refuseJoin("banned", banMessage(ban), peerId, DIRECTORY_CLOSE_CODES.banned);
      return;
    }

    const { registry, metrics, logger, config } = this.ctx;
    const existing = registry.get(peerId);
    if (!existing && registry.size >= config.maxPeers) {
      this.evict(
        "server_full",
        `directory is full (${config.maxPeers} peers)`,
        DIRECTORY_CLOSE_CODES.tryAgainLater,
      );
      metrics.rejectMessage("server_full");
      return;
    }
    if (existing) {
      // The same key proved itself again: a reload, or a reconnect before the old socket was found dead.
      // The newest proof wins; the old socket is told why and will not reconnect (signaling/README.md).
      registry.remove(existing);
      existing.evict(
        "session_replaced",
        "a newer session proved the same key",
        DIRECTORY_CLOSE_CODES.replaced,
      );
      metrics.sessionsReplaced++;
      logger.info({ event: "session_replaced", peerId, ip: this.ip });
    }

    clearTimeout(this.joinTimer);
    this.joinedPeer = { peerId, publicKey, capabilities: message.capabilities, joinedAtMs: Date.now() };
    this.sessionToken = randomToken();
    this.state = "joined";
    this.queries = new SessionQueries(
      this,
      this.ctx,
      (reply) => this.send(reply),
      (code, detail, id) => this.reject(code, detail, id),
    );
    // A bounded sample, not everyone: the welcome's size and the join's fan-out do not grow with the swarm.
    const peers = registry.add(this);
    this.send({
      v: DIRECTORY_PROTOCOL_VERSION,
      type: "welcome",
      sessionToken: this.sessionToken,
      self: this.joinedPeer,
      peers,
      total: registry.othersOnline,
    });
    metrics.joins++;
    logger.info({ event: "join", peerId, ip: this.ip, peers: registry.size });
  }

  private refuseJoin(
    code: DirectoryErrorCode,
    message: string,
    claimedPeerId: string,
    closeCode: number = DIRECTORY_CLOSE_CODES.authFailed,
  ): void {
    if (this.state !== "verifying") return;
    this.ctx.metrics.rejectMessage(code);
    this.log(code, { claimedPeerId });
    // A nonce is good for one attempt: a failed proof (or a banned id) ends the connection.
    this.evict(code, message, closeCode);
  }

  /** Answers an invalid frame with an error, counts it, and closes the socket after too many. */
  private reject(code: DirectoryErrorCode, detail: string, id?: string): void {
    this.ctx.metrics.rejectMessage(code);
    this.log(code, { detail });
    this.invalidCount++;
    if (this.invalidCount >= this.ctx.config.maxInvalidMessages) {
      this.evict(
        code,
        `closing after ${this.invalidCount} invalid messages`,
        DIRECTORY_CLOSE_CODES.tooManyInvalid,
      );
      return;
    }
    this.send({
      v: DIRECTORY_PROTOCOL_VERSION,
      type: "error",
      code,
      message: detail,
      ...(id === undefined ? {} : { id }),
    });
  }

  private log(code: string, fields: Record<string, unknown>): void {
    const suppressed = this.ctx.throttle.admit(`directory:${code}:${this.ip}`);
    if (suppressed === null) return;
    this.ctx.logger.warn({ event: "directory_rejected", code, ip: this.ip, suppressed, ...fields });
  }

  private onJoinTimeout(): void {
    if (this.state !== "awaiting-join") return;
    this.ctx.metrics.rejectMessage("join_timeout");
    this.log("join_timeout", {});
    this.evict("join_timeout", "no valid join in time", DIRECTORY_CLOSE_CODES.joinTimeout);
  }

  private onSocketError(error: Error): void {
    // ws reports protocol violations (oversized frame, bad UTF-8, bad opcode) here and closes the socket.
    const code = (error as { code?: unknown }).code;
    const reason = code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? "too_large" : "protocol_error";
    this.ctx.metrics.rejectMessage(reason);
    this.log(reason, { error: error.message });
  }

  private onClose(): void {
    const wasJoined = this.state === "joined";
    this.state = "closed";
    clearTimeout(this.joinTimer);
    this.capabilityUpdates.cancel();
    if (wasJoined && this.ctx.registry.remove(this)) {
      this.ctx.metrics.leaves++;
      this.ctx.logger.info({
        event: "leave",
        peerId: this.peer.peerId,
        ip: this.ip,
        peers: this.ctx.registry.size,
      });
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
