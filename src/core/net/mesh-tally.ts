import type { AdmissionRefusal } from "./link-admission.ts";
import type { MeshCounters } from "./mesh-types.ts";
import type { LinkState, LinkStats, Rejection } from "./peer-link.ts";

/**
 * What the mesh counts: every accepted message and every refusal, by cause. Traffic of closed links is kept
 * so totals survive them; live links add theirs when the counters are read.
 */
export class MeshTally {
  readonly totals: MeshCounters = {
    messagesReceived: 0,
    messagesSent: 0,
    invalidMessages: 0,
    forgedSignatures: 0,
    handshakesCompleted: 0,
    handshakesFailed: 0,
    connectFailures: 0,
    blobsReceived: 0,
    bytesReceived: 0,
    bytesSent: 0,
    throttledMessages: 0,
    linksClosedForFlooding: 0,
    overBudgetRefused: 0,
    staleMessages: 0,
    replayedMessages: 0,
    unknownPeersRefused: 0,
    linkCapRefused: 0,
    floodersRefused: 0,
    peakLinks: 0,
  };
  private readonly closedTraffic = { bytesSent: 0, bytesReceived: 0, messagesSent: 0 };

  snapshot(liveLinks: readonly LinkStats[]): MeshCounters {
    const traffic = { ...this.closedTraffic };
    for (const s of liveLinks) {
      traffic.bytesSent += s.bytesSent;
      traffic.bytesReceived += s.bytesReceived;
      traffic.messagesSent += s.messagesSent;
    }
    return { ...this.totals, ...traffic };
  }

  rejection(rejection: Rejection): void {
    const t = this.totals;
    if (rejection.kind === "forged") t.forgedSignatures++;
    else if (rejection.kind === "throttled") t.throttledMessages++;
    else if (rejection.kind === "refused") t.overBudgetRefused++;
    else t.invalidMessages++;
    if (rejection.code === "stale" || rejection.code === "from_future") t.staleMessages++;
    if (rejection.code === "replayed") t.replayedMessages++;
  }

  admissionRefused(code: AdmissionRefusal): void {
    if (code === "unknown_peer") this.totals.unknownPeersRefused++;
    else if (code === "link_cap") this.totals.linkCapRefused++;
    else this.totals.floodersRefused++;
  }

  /** A link was added: `count` links are held now. */
  linkAdded(count: number): void {
    this.totals.peakLinks = Math.max(this.totals.peakLinks, count);
  }

  linkClosed(stats: LinkStats, previous: LinkState, forFlooding: boolean): void {
    this.closedTraffic.bytesSent += stats.bytesSent;
    this.closedTraffic.bytesReceived += stats.bytesReceived;
    this.closedTraffic.messagesSent += stats.messagesSent;
    if (previous === "connecting") this.totals.connectFailures++;
    if (previous === "handshaking") this.totals.handshakesFailed++;
    if (forFlooding) this.totals.linksClosedForFlooding++;
  }
}
