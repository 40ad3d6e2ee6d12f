/**
 * An in-memory stand-in for WebRTC so the mesh logic runs in Node unit tests. Channels behave like
 * RTCDataChannel where the mesh can tell: messages arrive in order as fresh ArrayBuffers (strings stay
 * strings), bufferedAmount grows on send and drains `drainBytesPerTick` per macrotask, and
 * `bufferedamountlow` fires when it crosses the threshold. Real WebRTC is exercised in the browser (e2e/).
 */
import type { SendChannel } from "../../../src/core/net/backpressure.ts";
import type { ChannelFingerprints } from "../../../src/core/net/handshake.ts";
import type { LinkTransport, MeshTransport, TransportStatus } from "../../../src/core/net/transport.ts";

type Listener = () => void;

export class MemoryChannel implements SendChannel {
  readyState: "connecting" | "open" | "closing" | "closed" = "connecting";
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  /** Largest bufferedAmount ever seen right after a send: lets tests check backpressure bounds. */
  maxBufferedAmount = 0;
  peer: MemoryChannel | null = null;
  onDeliver: ((data: unknown) => void) | null = null;
  private readonly queue: (Uint8Array | string)[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private draining = false;

  constructor(private readonly drainBytesPerTick: number) {}

  send(data: Uint8Array<ArrayBuffer> | string): void {
    if (this.readyState !== "open") throw new Error(`InvalidStateError: channel is ${this.readyState}`);
    const copy = typeof data === "string" ? data : data.slice();
    this.queue.push(copy);
    this.bufferedAmount += typeof copy === "string" ? copy.length : copy.length;
    this.maxBufferedAmount = Math.max(this.maxBufferedAmount, this.bufferedAmount);
    this.scheduleDrain();
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  dispatch(type: string): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener();
  }

  close(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.queue.length = 0;
    this.dispatch("close");
    this.peer?.close();
  }

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => {
      this.draining = false;
      let budget = this.drainBytesPerTick;
      while (this.queue.length > 0 && budget > 0 && this.readyState === "open") {
        const item = this.queue.shift()!;
        const size = typeof item === "string" ? item.length : item.length;
        budget -= size;
        const before = this.bufferedAmount;
        this.bufferedAmount -= size;
        const delivered = typeof item === "string" ? item : item.buffer;
        this.peer?.onDeliver?.(delivered);
        if (
          before > this.bufferedAmountLowThreshold &&
          this.bufferedAmount <= this.bufferedAmountLowThreshold
        ) {
          this.dispatch("bufferedamountlow");
        }
      }
      if (this.queue.length > 0) this.scheduleDrain();
    });
  }
}

function randomFingerprint(): string {
  const bytes = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) =>
    b.toString(16).padStart(2, "0"),
  );
  return `sha-256 ${bytes.join(":").toUpperCase()}`;
}

export class MemoryLink implements LinkTransport {
  readonly localFingerprint = randomFingerprint();
  other: MemoryLink | null = null;
  /** Fault injection: what this side believes the remote certificate is (a relay in the middle). */
  remoteFingerprintOverride: string | null = null;
  private readonly openListeners: Listener[] = [];
  private readonly dataListeners: ((data: unknown) => void)[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private closed = false;

  constructor(
    readonly remotePeerId: string,
    readonly dialer: boolean,
    readonly memoryChannel: MemoryChannel,
  ) {
    memoryChannel.onDeliver = (data) => {
      for (const listener of this.dataListeners) listener(data);
    };
    memoryChannel.addEventListener("close", () => this.fireClose("remote closed"));
  }

  get channel(): SendChannel | null {
    return this.memoryChannel.readyState === "open" ? this.memoryChannel : null;
  }

  fingerprints(): ChannelFingerprints {
    return {
      local: this.localFingerprint,
      remote: this.remoteFingerprintOverride ?? this.other?.localFingerprint ?? "",
    };
  }

  onOpen(listener: Listener): void {
    this.openListeners.push(listener);
  }

  onData(listener: (data: unknown) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  open(): void {
    this.memoryChannel.readyState = "open";
    for (const listener of this.openListeners) listener();
  }

  close(): void {
    this.fireClose("closed locally");
    this.memoryChannel.close();
  }

  fireClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closeListeners) listener(reason);
  }
}

/** Plays the signaling server: who is registered, and connection introductions. */
export class MemoryHub {
  readonly transports = new Map<string, MemoryTransport>();
  /** Every link created, for tests that inspect or tamper with channels. */
  readonly links: MemoryLink[] = [];
  drainBytesPerTick = 256 * 1024;
  /** Fault injection: called with each new (dialer, acceptor) pair before it opens. */
  onPair: ((dialerSide: MemoryLink, acceptorSide: MemoryLink) => void) | null = null;
}

export class MemoryTransport implements MeshTransport {
  private readonly connectionListeners: ((link: LinkTransport) => void)[] = [];
  private readonly statusListeners: ((status: TransportStatus, detail: string | null) => void)[] = [];

  constructor(
    private readonly hub: MemoryHub,
    readonly localPeerId: string,
  ) {}

  async start(): Promise<void> {
    this.hub.transports.set(this.localPeerId, this);
    for (const listener of this.statusListeners) listener("open", null);
  }

  dial(remotePeerId: string): LinkTransport {
    const a = new MemoryChannel(this.hub.drainBytesPerTick);
    const b = new MemoryChannel(this.hub.drainBytesPerTick);
    a.peer = b;
    b.peer = a;
    const mine = new MemoryLink(remotePeerId, true, a);
    const theirs = new MemoryLink(this.localPeerId, false, b);
    mine.other = theirs;
    theirs.other = mine;
    this.hub.links.push(mine, theirs);
    this.hub.onPair?.(mine, theirs);
    setImmediate(() => {
      const remote = this.hub.transports.get(remotePeerId);
      if (!remote) {
        mine.fireClose("peer unavailable");
        return;
      }
      remote.accept(theirs);
      setImmediate(() => {
        theirs.open();
        mine.open();
      });
    });
    return mine;
  }

  accept(link: MemoryLink): void {
    for (const listener of this.connectionListeners) listener(link);
  }

  onConnection(listener: (link: LinkTransport) => void): void {
    this.connectionListeners.push(listener);
  }

  onStatus(listener: (status: TransportStatus, detail: string | null) => void): void {
    this.statusListeners.push(listener);
  }

  reconnect(): void {}

  close(): void {
    if (this.hub.transports.get(this.localPeerId) === this) this.hub.transports.delete(this.localPeerId);
    for (const listener of this.statusListeners) listener("closed", null);
  }
}
