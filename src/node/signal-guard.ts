import { TokenBucket } from "../core/net/token-bucket.ts";

/**
 * What a Node peer accepts from the signaling relay. Any peer may send OFFER and CANDIDATE frames to us
 * through the server, under as many identities as it can join with, and each admitted offer costs a native
 * RTCPeerConnection (threads, sockets, memory) until it opens or times out. So offers are rate-limited per
 * remote, connections still negotiating are capped per remote and in total (the oldest is evicted, so a
 * flood that stops leaves room for an honest dialer at once instead of after every timeout), candidates
 * are capped per connection and, while held before their offer is applied, in total. Every refusal is
 * counted by cause in `rejections`; the gauges and their peaks say what the caps held.
 */

export interface SignalGuardLimits {
  /** Largest SDP accepted (the PeerServer's default frame cap is 16 KiB; a real offer is 1-5 KB). */
  readonly maxSdpChars: number;
  /** Offers per remote peer: token bucket size and refill per second (a mesh redials a few times). */
  readonly offerBurst: number;
  readonly offerRatePerS: number;
  /** Incoming connections still negotiating, per remote peer and in total. */
  readonly maxPendingPerRemote: number;
  readonly maxPendingTotal: number;
  /** CANDIDATE frames one connection may send (an honest one sends a handful per network interface). */
  readonly maxCandidatesPerLink: number;
  /** Candidates held before their connection's remote description is set, over all connections. */
  readonly maxHeldCandidatesTotal: number;
  /** Remote peers whose offer rate is remembered (least recently seen forgotten first). */
  readonly maxTrackedRemotes: number;
}

export const DEFAULT_SIGNAL_LIMITS: SignalGuardLimits = {
  maxSdpChars: 16 * 1024,
  offerBurst: 4,
  offerRatePerS: 0.5,
  maxPendingPerRemote: 2,
  maxPendingTotal: 32,
  maxCandidatesPerLink: 32,
  maxHeldCandidatesTotal: 256,
  maxTrackedRemotes: 1024,
};

/** Signaling frames refused, by cause (named in the style of the mesh's counters, MeshCounters). */
export interface SignalRejections {
  /** Not JSON, or not shaped like a PeerServer message. */
  badSignal: number;
  noConnectionId: number;
  /** A frame for a connection another peer opened. */
  wrongSource: number;
  /** A non-offer frame for no connection we hold (late, or for a connection closed or evicted). */
  unknownConnection: number;
  /** An offer for a serialization other than "raw". */
  notRaw: number;
  oversizeSdp: number;
  offerRateLimited: number;
  pendingPerRemoteCap: number;
  /** Negotiating connections evicted (oldest first) to admit a newer offer over the total cap. */
  pendingEvicted: number;
  candidateFlood: number;
  heldCandidatesCap: number;
  unexpectedSignal: number;
  badCandidate: number;
  negotiationFailed: number;
}

export interface SignalGuardSnapshot {
  readonly rejections: SignalRejections;
  /** Sum of `rejections`. */
  readonly rejected: number;
  readonly offersIn: number;
  readonly offersAdmitted: number;
  readonly candidatesIn: number;
  /** Incoming connections negotiating now, and the most at once. */
  readonly pending: number;
  readonly peakPending: number;
  /** The most connections one remote peer had negotiating at once. */
  readonly peakPendingPerRemote: number;
  readonly heldCandidates: number;
  readonly peakHeldCandidates: number;
}

/** What the guard needs of a connection: who it is from, and how to drop it. */
export interface GuardedLink {
  readonly remotePeerId: string;
  fail(reason: string): void;
}

export type OfferVerdict = "admit" | "oversizeSdp" | "offerRateLimited" | "pendingPerRemoteCap";

function emptyRejections(): SignalRejections {
  return {
    badSignal: 0,
    noConnectionId: 0,
    wrongSource: 0,
    unknownConnection: 0,
    notRaw: 0,
    oversizeSdp: 0,
    offerRateLimited: 0,
    pendingPerRemoteCap: 0,
    pendingEvicted: 0,
    candidateFlood: 0,
    heldCandidatesCap: 0,
    unexpectedSignal: 0,
    badCandidate: 0,
    negotiationFailed: 0,
  };
}

export class SignalGuard {
  private readonly limits: SignalGuardLimits;
  readonly rejections = emptyRejections();
  private readonly buckets = new Map<string, TokenBucket>();
  /** Negotiating incoming connections, oldest first (Set keeps insertion order). */
  private readonly pending = new Set<GuardedLink>();
  private readonly pendingByRemote = new Map<string, number>();
  private offersIn = 0;
  private offersAdmitted = 0;
  private candidatesIn = 0;
  private peakPending = 0;
  private peakPendingPerRemote = 0;
  private held = 0;
  private peakHeld = 0;

  constructor(
    limits: Partial<SignalGuardLimits> = {},
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.limits = { ...DEFAULT_SIGNAL_LIMITS, ...limits };
  }

  count(cause: keyof SignalRejections): void {
    this.rejections[cause]++;
  }

  /** An OFFER for a new connection from `remotePeerId`: may it cost us a peer connection? */
  checkOffer(remotePeerId: string, sdpChars: number): OfferVerdict {
    this.offersIn++;
    const verdict = this.offerVerdict(remotePeerId, sdpChars);
    if (verdict !== "admit") this.count(verdict);
    return verdict;
  }

  /** An admitted offer's connection is negotiating; past the total cap the oldest one is dropped. */
  admitted(link: GuardedLink): void {
    this.offersAdmitted++;
    while (this.pending.size >= this.limits.maxPendingTotal) {
      const oldest = this.pending.values().next().value!;
      this.settled(oldest);
      this.count("pendingEvicted");
      oldest.fail("evicted: too many connections negotiating");
    }
    this.pending.add(link);
    const remote = link.remotePeerId;
    const fromRemote = (this.pendingByRemote.get(remote) ?? 0) + 1;
    this.pendingByRemote.set(remote, fromRemote);
    this.peakPending = Math.max(this.peakPending, this.pending.size);
    this.peakPendingPerRemote = Math.max(this.peakPendingPerRemote, fromRemote);
  }

  /** The connection opened or closed: it no longer counts as negotiating. */
  settled(link: GuardedLink): void {
    if (!this.pending.delete(link)) return;
    const remote = link.remotePeerId;
    const left = (this.pendingByRemote.get(remote) ?? 1) - 1;
    if (left > 0) this.pendingByRemote.set(remote, left);
    else this.pendingByRemote.delete(remote);
  }

  /** A CANDIDATE frame for a connection that has had `seen` before it: within the per-link cap? */
  candidateAllowed(seen: number): boolean {
    this.candidatesIn++;
    if (seen < this.limits.maxCandidatesPerLink) return true;
    this.count("candidateFlood");
    return false;
  }

  /** Holds one candidate until its offer is applied, if the total allows; `release` gives them back. */
  holdCandidate(): boolean {
    if (this.held >= this.limits.maxHeldCandidatesTotal) {
      this.count("heldCandidatesCap");
      return false;
    }
    this.held++;
    this.peakHeld = Math.max(this.peakHeld, this.held);
    return true;
  }

  releaseCandidates(n: number): void {
    this.held = Math.max(0, this.held - n);
  }

  get maxSdpChars(): number {
    return this.limits.maxSdpChars;
  }

  snapshot(): SignalGuardSnapshot {
    const rejections = { ...this.rejections };
    return {
      rejections,
      rejected: Object.values(rejections).reduce((sum, n) => sum + n, 0),
      offersIn: this.offersIn,
      offersAdmitted: this.offersAdmitted,
      candidatesIn: this.candidatesIn,
      pending: this.pending.size,
      peakPending: this.peakPending,
      peakPendingPerRemote: this.peakPendingPerRemote,
      heldCandidates: this.held,
      peakHeldCandidates: this.peakHeld,
    };
  }

  private offerVerdict(remotePeerId: string, sdpChars: number): OfferVerdict {
    if (sdpChars > this.limits.maxSdpChars) return "oversizeSdp";
    if (!this.bucketFor(remotePeerId).take()) return "offerRateLimited";
    const pending = this.pendingByRemote.get(remotePeerId) ?? 0;
    if (pending >= this.limits.maxPendingPerRemote) return "pendingPerRemoteCap";
    return "admit";
  }

  /** The remote's offer bucket, moved to the most recently seen end; the least recent is forgotten. */
  private bucketFor(remotePeerId: string): TokenBucket {
    let bucket = this.buckets.get(remotePeerId);
    if (bucket) this.buckets.delete(remotePeerId);
    else bucket = new TokenBucket(this.limits.offerBurst, this.limits.offerRatePerS, this.nowMs);
    this.buckets.set(remotePeerId, bucket);
    if (this.buckets.size > this.limits.maxTrackedRemotes) {
      this.buckets.delete(this.buckets.keys().next().value!);
    }
    return bucket;
  }
}
