/** Counters since start, served by GET /api/v1/metrics. Keys come from fixed sets, never from peers. */
export class ServerMetrics {
  joins = 0;
  leaves = 0;
  sessionsReplaced = 0;
  heartbeatTimeouts = 0;
  slowConsumersDropped = 0;
  readonly upgradesAccepted = { directory: 0, peerjs: 0 };
  private readonly rejectedUpgrades = new Map<string, number>();
  private readonly rejectedMessages = new Map<string, number>();
  private readonly messagesIn = new Map<string, number>();
  private readonly messagesOut = new Map<string, number>();
  private readonly peerjsMessagesIn = new Map<string, number>();

  rejectUpgrade(reason: string): void {
    bump(this.rejectedUpgrades, reason);
  }
  rejectMessage(code: string): void {
    bump(this.rejectedMessages, code);
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
      upgradesAccepted: { ...this.upgradesAccepted },
      rejected: {
        upgrades: Object.fromEntries(this.rejectedUpgrades),
        messages: Object.fromEntries(this.rejectedMessages),
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
  uptimeS: number;
}

export interface MetricsSnapshot extends MetricsGauges {
  joins: number;
  leaves: number;
  sessionsReplaced: number;
  heartbeatTimeouts: number;
  slowConsumersDropped: number;
  upgradesAccepted: { directory: number; peerjs: number };
  /** Refused WebSocket upgrades by reason, and directory frames answered with an error, by code. */
  rejected: { upgrades: Record<string, number>; messages: Record<string, number> };
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
