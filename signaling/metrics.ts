/**
 * How a unit the API's swarm requester sent ended, as /metrics labels it (a fixed set): each attempt on a
 * volunteer ends verified, rejected (the residual check refused it), timed_out (deadline or heartbeats),
 * disconnected, volunteer_error, not_converged, declined or cancelled; recomputed_on_server counts the
 * sessions taken back to the server's threads.
 */
export const API_UNIT_OUTCOMES = [
  "verified",
  "rejected",
  "timed_out",
  "disconnected",
  "volunteer_error",
  "not_converged",
  "declined",
  "cancelled",
  "recomputed_on_server",
] as const;
export type ApiUnitOutcome = (typeof API_UNIT_OUTCOMES)[number];

/** Counters since start, served by GET /api/v1/metrics. Keys come from fixed sets, never from peers. */
export class ServerMetrics {
  joins = 0;
  leaves = 0;
  sessionsReplaced = 0;
  heartbeatTimeouts = 0;
  slowConsumersDropped = 0;
  /** OFFER / ANSWER / CANDIDATE frames delivered by the PeerJS relay guard. */
  peerjsRelayed = 0;
  /** Capability updates that took effect, and those replaced by a newer one while throttled. */
  capabilityUpdatesApplied = 0;
  capabilityUpdatesCoalesced = 0;
  /** `request-peers` answered, and refused for coming too soon (also counted as rejected `rate_limited`). */
  peerRequestsAnswered = 0;
  peerRequestsRefused = 0;
  /**
   * Peer records pushed to sessions in `welcome`/`peers-sample` (sampled) and `peers-changed` (by kind):
   * what a join or an update costs, independent of how many ended up in one frame.
   */
  readonly peerRecordsOut = { sampled: 0, joined: 0, updated: 0, left: 0, queried: 0, watched: 0 };
  /** Directory queries answered, and refused for coming too fast (also counted as rejected `rate_limited`). */
  queriesAnswered = 0;
  queriesRefused = 0;
  readonly upgradesAccepted = { directory: 0, peerjs: 0, extension: 0 };
  /**
   * Admin bans (directory/bans.ts): bans added and lifted, joins refused for a ban (also counted as
   * rejected `banned`), live sessions a ban closed.
   */
  readonly bans = { added: 0, lifted: 0, joinsRefused: 0, sessionsClosed: 0 };
  /** The solve API (api/): sessions by how they ended, iteration updates written to clients, and those
   *  coalesced away for a slow reader. Refusals go to rejectHttp like every other HTTP refusal. */
  readonly api = {
    sessionsStarted: 0,
    sessionsConverged: 0,
    sessionsFailed: 0,
    sessionsCancelled: 0,
    /** Ended by a graceful drain that ran out of grace (their final event says so). */
    sessionsShutdown: 0,
    sessionsExpired: 0,
    updatesStreamed: 0,
    updatesCoalesced: 0,
    verifications: 0,
    /** POST /swarm/costs updates handed to a running solve. */
    costUpdates: 0,
    /** Of those, judged failed: probes above the threshold the session's tolerance states (probe.ts). */
    verificationsFailed: 0,
    /** The swarm requester (api/swarm-*.ts): sessions handed to a volunteer, certified there, taken back to
     *  the server (no volunteer held the unit, the job failed), volunteer results the server's residual
     *  check rejected, and joins that failed. */
    swarmSessions: 0,
    swarmCertified: 0,
    swarmFallbacks: 0,
    swarmResultsRejected: 0,
    swarmJoinFailures: 0,
    /** POST /api/v1/jobs (api/jobs/): jobs by how they ended, where solve jobs were computed, and finished
     *  ones the TTL sweep removed. */
    jobsStarted: 0,
    jobsDone: 0,
    jobsFailed: 0,
    jobsCancelled: 0,
    jobsExpired: 0,
    jobsOnSwarm: 0,
    jobsOnServer: 0,
  };
  /** Sessions held now (running or kept for their TTL) and solves running; the API sets it when mounted. */
  apiGauges: () => { sessionsOpen: number; solvesRunning: number } = () => ({
    sessionsOpen: 0,
    solvesRunning: 0,
  });
  /**
   * Units the API's swarm requester sent to volunteers, by how each attempt ended (verified, rejected,
   * timed_out, ...), and sessions it took back to the server (recomputed_on_server); the API sets it.
   */
  apiUnits: () => Readonly<Partial<Record<ApiUnitOutcome, number>>> = () => ({});
  private readonly rejectedUpgrades = new Map<string, number>();
  private readonly rejectedMessages = new Map<string, number>();
  private readonly rejectedPeerjs = new Map<string, number>();
  private readonly rejectedHttp = new Map<string, number>();
  private readonly cspViolations = new Map<string, number>();
  private readonly messagesIn = new Map<string, number>();
  private readonly messagesOut = new Map<string, number>();
  private readonly peerjsMessagesIn = new Map<string, number>();

  rejectUpgrade(reason: string): void {
    bump(this.rejectedUpgrades, reason);
  }
  rejectMessage(code: string): void {
    bump(this.rejectedMessages, code);
  }
  /** A PeerJS frame dropped by the relay guard (or a socket dropped for it), by reason. */
  rejectPeerjs(reason: string): void {
    bump(this.rejectedPeerjs, reason);
  }
  /** An HTTP request refused (e.g. /metrics from a remote caller, a bad bearer), by reason. */
  rejectHttp(reason: string): void {
    bump(this.rejectedHttp, reason);
  }
  /** A browser reported that the page's CSP blocked something, by directive (a fixed set). */
  cspViolation(directive: string): void {
    bump(this.cspViolations, directive);
  }
  messageIn(type: string): void {
    bump(this.messagesIn, type);
  }
  messageOut(type: string, count = 1): void {
    bump(this.messagesOut, type, count);
  }
  peerjsMessageIn(type: string): void {
    bump(this.peerjsMessagesIn, type);
  }

  snapshot(gauges: MetricsGauges): MetricsSnapshot {
    return {
      ...gauges,
      joins: this.joins,
      leaves: this.leaves,
      sessionsReplaced: this.sessionsReplaced,
      heartbeatTimeouts: this.heartbeatTimeouts,
      slowConsumersDropped: this.slowConsumersDropped,
      peerjsRelayed: this.peerjsRelayed,
      cspViolations: Object.fromEntries(this.cspViolations),
      capabilityUpdates: {
        applied: this.capabilityUpdatesApplied,
        coalesced: this.capabilityUpdatesCoalesced,
      },
      peerRequests: { answered: this.peerRequestsAnswered, refused: this.peerRequestsRefused },
      queries: { answered: this.queriesAnswered, refused: this.queriesRefused },
      peerRecordsOut: { ...this.peerRecordsOut },
      upgradesAccepted: { ...this.upgradesAccepted },
      bans: { ...this.bans },
      api: { ...this.api, ...this.apiGauges() },
      apiUnits: { ...this.apiUnits() },
      rejected: {
        upgrades: Object.fromEntries(this.rejectedUpgrades),
        messages: Object.fromEntries(this.rejectedMessages),
        peerjs: Object.fromEntries(this.rejectedPeerjs),
        http: Object.fromEntries(this.rejectedHttp),
      },
      messages: {
        in: Object.fromEntries(this.messagesIn),
        out: Object.fromEntries(this.messagesOut),
        peerjsIn: Object.fromEntries(this.peerjsMessagesIn),
      },
    };
  }
}

export interface MetricsGauges {
  peers: number;
  directoryConnections: number;
  peerjsConnections: number;
  /** Bytes of signaling frames held for peers that have joined but not yet registered with PeerJS. */
  peerjsPendingBytes: number;
  /** Directory subscriptions held now. */
  subscriptions: number;
  /** Admin bans in force now. */
  bansActive: number;
  uptimeS: number;
}

export interface MetricsSnapshot extends MetricsGauges {
  joins: number;
  leaves: number;
  sessionsReplaced: number;
  heartbeatTimeouts: number;
  slowConsumersDropped: number;
  peerjsRelayed: number;
  /** CSP violation reports from browsers, by directive: non-zero means the policy blocks something the app does. */
  cspViolations: Record<string, number>;
  capabilityUpdates: { applied: number; coalesced: number };
  peerRequests: { answered: number; refused: number };
  queries: { answered: number; refused: number };
  /** Peer records sent, by channel: `queried` in query results, `watched` in subscription frames. */
  peerRecordsOut: {
    sampled: number;
    joined: number;
    updated: number;
    left: number;
    queried: number;
    watched: number;
  };
  upgradesAccepted: { directory: number; peerjs: number; extension: number };
  bans: ServerMetrics["bans"];
  apiUnits: Partial<Record<ApiUnitOutcome, number>>;
  api: ServerMetrics["api"] & ReturnType<ServerMetrics["apiGauges"]>;
  /**
   * Refused WebSocket upgrades by reason, directory frames answered with an error by code, PeerJS frames
   * dropped by the relay guard by reason, refused HTTP requests by reason.
   */
  rejected: {
    upgrades: Record<string, number>;
    messages: Record<string, number>;
    peerjs: Record<string, number>;
    http: Record<string, number>;
  };
  /** Valid directory frames by type (in and out), and PeerJS frames by type. */
  messages: {
    in: Record<string, number>;
    out: Record<string, number>;
    peerjsIn: Record<string, number>;
  };
}

function bump(map: Map<string, number>, key: string, count = 1): void {
  map.set(key, (map.get(key) ?? 0) + count);
}
