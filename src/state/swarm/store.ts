import { createStore, type StoreApi } from "zustand/vanilla";
import type { Capabilities } from "../../core/protocol/capabilities.ts";
import type { Swarm, SwarmStatus } from "../../core/net/swarm.ts";

/** A peer from the directory, joined with what the mesh knows about our link to it. */
export interface SwarmPeerView {
  readonly peerId: string;
  readonly capabilities: Capabilities;
  readonly joinedAtMs: number;
  /** An authenticated WebRTC link is open. */
  readonly connected: boolean;
  readonly rttMs: number | null;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

export interface SwarmCounters {
  readonly messagesReceived: number;
  readonly invalidDropped: number;
  readonly forgedRejected: number;
  readonly handshakesFailed: number;
  readonly blobsReceived: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Dropped by per-link rate limits (net/link-limits.ts). */
  readonly throttled: number;
  readonly floodingLinksClosed: number;
  /** Messages and blobs refused by the memory budget (or a full replay cache). */
  readonly overBudgetRefused: number;
  /** Signed messages refused as too old (or too far ahead) or replayed. */
  readonly staleOrReplayed: number;
  /** Incoming links refused: unknown to the directory, over the link cap, or a recent flooder. */
  readonly linksRefused: number;
}

export interface ReceivedNote {
  readonly from: string;
  readonly text: string;
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
}

export interface ReceivedBlob {
  readonly from: string;
  readonly sha256: string;
  readonly byteLength: number;
  readonly label: string | null;
  readonly receivedAtMs: number;
}

export interface SwarmState {
  readonly status: SwarmStatus;
  readonly self: {
    readonly peerId: string;
    readonly capabilities: Capabilities;
    /** False for a tab that uses a temporary identity because another tab holds the stored one. */
    readonly persistentIdentity: boolean;
    readonly probeNotes: readonly string[];
  } | null;
  /** The peers this tab knows: everyone in a small swarm, a sample the directory chose in a big one. */
  readonly peers: readonly SwarmPeerView[];
  /** Other peers online as the directory counts them (at least `peers.length`). */
  readonly othersOnline: number;
  readonly counters: SwarmCounters;
  /** Newest last, at most RECENT_LIMIT. */
  readonly recentNotes: readonly ReceivedNote[];
  readonly recentBlobs: readonly ReceivedBlob[];
  readonly lastError: string | null;
  readonly actions: {
    start(): Promise<void>;
    stop(): void;
    sendNote(peerId: string, text: string): Promise<void>;
  };
}

export const RECENT_LIMIT = 50;

const ZERO_COUNTERS: SwarmCounters = {
  messagesReceived: 0,
  invalidDropped: 0,
  forgedRejected: 0,
  handshakesFailed: 0,
  blobsReceived: 0,
  bytesSent: 0,
  bytesReceived: 0,
  throttled: 0,
  floodingLinksClosed: 0,
  overBudgetRefused: 0,
  staleOrReplayed: 0,
  linksRefused: 0,
};

export interface SwarmStoreDeps {
  /** Starts the swarm (startSwarm with the page's options). */
  startSwarm(): Promise<Swarm>;
  persistentIdentity: boolean;
  nowMs?: () => number;
}

export type SwarmStore = StoreApi<SwarmState> & { readonly swarm: () => Swarm | null };

/** The swarm as the UI sees it. Network code updates it without React; components read it with selectors. */
export function createSwarmStore(deps: SwarmStoreDeps): SwarmStore {
  let swarm: Swarm | null = null;
  let unbind: (() => void) | null = null;
  let starting: Promise<void> | null = null;
  const store = createStore<SwarmState>()((set) => ({
    status: "disconnected",
    self: null,
    peers: [],
    othersOnline: 0,
    counters: ZERO_COUNTERS,
    recentNotes: [],
    recentBlobs: [],
    lastError: null,
    actions: {
      start() {
        if (swarm) return Promise.resolve();
        starting ??= (async () => {
          set({ status: "connecting", lastError: null });
          try {
            swarm = await deps.startSwarm();
            set({
              self: {
                peerId: swarm.identity.peerId,
                capabilities: swarm.capabilities,
                persistentIdentity: deps.persistentIdentity,
                probeNotes: swarm.probeNotes,
              },
            });
            unbind = bindSwarm(store, swarm, deps.nowMs ?? (() => Date.now()));
          } catch (error) {
            set({
              status: "disconnected",
              lastError: error instanceof Error ? error.message : String(error),
            });
          } finally {
            starting = null;
          }
        })();
        return starting;
      },
      stop() {
        unbind?.();
        unbind = null;
        swarm?.close();
        swarm = null;
        set({ status: "disconnected", peers: [], othersOnline: 0 });
      },
      async sendNote(peerId, text) {
        if (!swarm) throw new Error("the swarm is not started");
        try {
          await swarm.mesh.sendSigned(peerId, { type: "note", text });
        } catch (error) {
          set({ lastError: error instanceof Error ? error.message : String(error) });
          throw error;
        }
      },
    },
  }));
  return Object.assign(store, { swarm: () => swarm });
}

/** Keeps the store in step with a running swarm; returns the unsubscribe. Exported for tests. */
export function bindSwarm(store: StoreApi<SwarmState>, swarm: Swarm, nowMs: () => number): () => void {
  let scheduled = false;
  // Many mesh events can fire in one task (a burst of messages): recompute the views once per microtask.
  const refresh = (): void => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      store.setState(viewsOf(swarm));
    });
  };
  const offs = [
    swarm.on("status", refresh),
    swarm.on("error", (error) => store.setState({ lastError: `${error.code}: ${error.message}` })),
    swarm.directory.onPeers(refresh),
    swarm.mesh.on("stats", refresh),
    swarm.mesh.on("signed", (event) => {
      if (event.body.type !== "note") return;
      const note: ReceivedNote = {
        from: event.from,
        text: event.body.text,
        sentAtMs: event.body.atMs,
        receivedAtMs: nowMs(),
      };
      store.setState((state) => ({ recentNotes: [...state.recentNotes, note].slice(-RECENT_LIMIT) }));
    }),
    swarm.mesh.on("blob", (event) => {
      const blob: ReceivedBlob = {
        from: event.from,
        sha256: event.sha256,
        byteLength: event.bytes.length,
        label: event.label,
        receivedAtMs: nowMs(),
      };
      store.setState((state) => ({ recentBlobs: [...state.recentBlobs, blob].slice(-RECENT_LIMIT) }));
    }),
  ];
  store.setState(viewsOf(swarm));
  return () => {
    for (const off of offs) off();
  };
}

function viewsOf(swarm: Swarm): Pick<SwarmState, "peers" | "othersOnline" | "counters" | "status"> {
  const peers = peerViews(swarm);
  return {
    peers,
    othersOnline: Math.max(peers.length, swarm.directory.totalPeers),
    counters: countersOf(swarm),
    status: swarm.status,
  };
}

function peerViews(swarm: Swarm): SwarmPeerView[] {
  const links = new Map(swarm.mesh.linkStats().map((s) => [s.peerId, s]));
  return swarm.directory.peers.map((peer) => {
    const link = links.get(peer.peerId);
    return {
      peerId: peer.peerId,
      capabilities: peer.capabilities,
      joinedAtMs: peer.joinedAtMs,
      connected: link?.state === "open",
      rttMs: link?.state === "open" ? link.rttMs : null,
      bytesSent: link?.bytesSent ?? 0,
      bytesReceived: link?.bytesReceived ?? 0,
    };
  });
}

function countersOf(swarm: Swarm): SwarmCounters {
  const c = swarm.mesh.counters;
  return {
    messagesReceived: c.messagesReceived,
    invalidDropped: c.invalidMessages,
    forgedRejected: c.forgedSignatures,
    handshakesFailed: c.handshakesFailed,
    blobsReceived: c.blobsReceived,
    bytesSent: c.bytesSent,
    bytesReceived: c.bytesReceived,
    throttled: c.throttledMessages,
    floodingLinksClosed: c.linksClosedForFlooding,
    overBudgetRefused: c.overBudgetRefused,
    staleOrReplayed: c.staleMessages + c.replayedMessages,
    linksRefused: c.unknownPeersRefused + c.linkCapRefused + c.floodersRefused,
  };
}
