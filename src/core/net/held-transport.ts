import type { SendChannel } from "./backpressure.ts";
import type { ChannelFingerprints } from "./handshake.ts";
import type { LinkTransport } from "./transport.ts";

/**
 * An incoming connection from a peer the directory has not announced yet, held for a short grace period:
 * the dialer's `peer-joined` can reach us after its offer. The channel may open and the dialer's hello arrive
 * meanwhile, so everything is buffered (up to `maxBufferedBytes`, else the connection is dropped) and
 * replayed to the listeners once the link is admitted with `release()`.
 */
export class HeldTransport implements LinkTransport {
  private readonly openListeners: (() => void)[] = [];
  private readonly dataListeners: ((data: unknown) => void)[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private readonly buffered: unknown[] = [];
  private bufferedBytes = 0;
  private opened = false;
  private closedReason: string | null = null;
  private released = false;

  constructor(
    private readonly inner: LinkTransport,
    private readonly maxBufferedBytes: number,
  ) {
    inner.onOpen(() => {
      this.opened = true;
      if (this.released) for (const l of this.openListeners) l();
    });
    inner.onData((data) => {
      if (this.released) {
        for (const l of this.dataListeners) l(data);
        return;
      }
      this.bufferedBytes += sizeOf(data);
      if (this.bufferedBytes > this.maxBufferedBytes) {
        this.inner.close();
        return;
      }
      this.buffered.push(data);
    });
    inner.onClose((reason) => {
      if (this.closedReason !== null) return;
      this.closedReason = reason;
      if (this.released) for (const l of this.closeListeners) l(reason);
    });
  }

  get remotePeerId(): string {
    return this.inner.remotePeerId;
  }

  get dialer(): boolean {
    return this.inner.dialer;
  }

  get channel(): SendChannel | null {
    return this.inner.channel;
  }

  /** Closed while held (the remote gave up, or it sent too much before being admitted). */
  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  fingerprints(): ChannelFingerprints {
    return this.inner.fingerprints();
  }

  onOpen(listener: () => void): void {
    this.openListeners.push(listener);
  }

  onData(listener: (data: unknown) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  /** Admits the link: replays what happened while held, in order, then passes events straight through. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.opened) for (const l of this.openListeners) l();
    for (const data of this.buffered.splice(0)) for (const l of this.dataListeners) l(data);
    this.bufferedBytes = 0;
    if (this.closedReason !== null) for (const l of this.closeListeners) l(this.closedReason);
  }

  close(): void {
    this.inner.close();
  }
}

function sizeOf(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 1024;
}
