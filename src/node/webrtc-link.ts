import wrtc from "@roamhq/wrtc";
import type { SendChannel } from "../core/net/backpressure.ts";
import { fingerprintFromSdp, type ChannelFingerprints } from "../core/net/handshake.ts";
import type { PeerJsTransportOptions } from "../core/net/peerjs-transport.ts";
import type { LinkTransport } from "../core/net/transport.ts";
import type { SignalMessage } from "./peerjs-signal.ts";
import type { SignalGuard } from "./signal-guard.ts";

/** A dial whose channel is not open by then is abandoned (PeerJS has no such timeout; the mesh has one too). */
const CONNECT_TIMEOUT_MS = 30_000;

type WrtcPeerConnection = InstanceType<typeof wrtc.RTCPeerConnection>;
type WrtcDataChannel = ReturnType<WrtcPeerConnection["createDataChannel"]>;

/** What a link needs of its transport: the signaling socket, the ICE config, the guard, and to be forgotten. */
export interface NodeLinkHost {
  readonly iceServers: PeerJsTransportOptions["iceServers"];
  readonly guard: SignalGuard;
  sendSignal(message: SignalMessage): void;
  untrack(link: NodeLink): void;
}

/** One RTCPeerConnection with one reliable, ordered data channel: a LinkTransport. */
export class NodeLink implements LinkTransport {
  private readonly pc: WrtcPeerConnection;
  private dc: WrtcDataChannel | null = null;
  private readonly openListeners: (() => void)[] = [];
  private readonly dataListeners: ((data: unknown) => void)[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private closedReason: string | null = null;
  private remoteDescribed = false;
  private readonly earlyCandidates: unknown[] = [];
  /** CANDIDATE frames the remote sent on this connection (capped: guard.candidateAllowed). */
  private candidatesSeen = 0;
  private readonly timeout: ReturnType<typeof setTimeout>;

  constructor(
    private readonly host: NodeLinkHost,
    readonly remotePeerId: string,
    readonly connectionId: string,
    readonly dialer: boolean,
  ) {
    const iceServers = host.iceServers.map(({ urls, username, credential }) => ({
      urls,
      ...(username !== undefined ? { username } : {}),
      ...(credential !== undefined ? { credential } : {}),
    }));
    this.pc = new wrtc.RTCPeerConnection({ iceServers });
    this.pc.onicecandidate = (event) => {
      if (!event.candidate?.candidate) return;
      this.signal("CANDIDATE", { candidate: event.candidate.toJSON() });
    };
    this.pc.oniceconnectionstatechange = () => {
      const state = this.pc.iceConnectionState;
      if (state === "failed" || state === "closed") this.fail(`ICE ${state}`);
    };
    this.pc.ondatachannel = (event) => this.attach(event.channel);
    this.timeout = setTimeout(() => {
      if (this.channel === null) this.fail("connect timeout");
    }, CONNECT_TIMEOUT_MS);
  }

  get channel(): SendChannel | null {
    const dc = this.dc;
    return this.closedReason === null && dc?.readyState === "open" ? (dc as unknown as SendChannel) : null;
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  fingerprints(): ChannelFingerprints {
    return {
      local: fingerprintFromSdp(this.pc.localDescription?.sdp),
      remote: fingerprintFromSdp(this.pc.remoteDescription?.sdp),
    };
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

  close(): void {
    this.fail("closed locally");
  }

  startAsDialer(): void {
    this.attach(this.pc.createDataChannel(this.connectionId, { ordered: true }));
    void this.run(async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      this.signal("OFFER", {
        sdp: { type: "offer", sdp: offer.sdp },
        label: this.connectionId,
        reliable: true,
        serialization: "raw",
        metadata: null,
      });
    });
  }

  handleSignal(message: SignalMessage): void {
    const payload = message.payload;
    if (!payload || this.closed) return;
    if (message.type === "OFFER" && !this.dialer && payload.sdp) {
      const sdp = payload.sdp;
      void this.run(async () => {
        await this.pc.setRemoteDescription({ type: "offer", sdp: sdp.sdp });
        await this.remoteSet();
        const answer = await this.pc.createAnswer();
        await this.pc.setLocalDescription(answer);
        this.signal("ANSWER", { sdp: { type: "answer", sdp: answer.sdp } });
      });
    } else if (message.type === "ANSWER" && this.dialer && payload.sdp && !this.remoteDescribed) {
      const sdp = payload.sdp;
      void this.run(async () => {
        await this.pc.setRemoteDescription({ type: "answer", sdp: sdp.sdp });
        await this.remoteSet();
      });
    } else if (message.type === "CANDIDATE" && payload.candidate) {
      if (!this.host.guard.candidateAllowed(this.candidatesSeen++)) return;
      if (this.remoteDescribed) return void this.addCandidate(payload.candidate);
      if (this.host.guard.holdCandidate()) this.earlyCandidates.push(payload.candidate);
    } else {
      this.host.guard.count("unexpectedSignal");
    }
  }

  fail(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    clearTimeout(this.timeout);
    this.host.untrack(this);
    this.host.guard.settled(this);
    this.host.guard.releaseCandidates(this.earlyCandidates.splice(0).length);
    try {
      this.dc?.close();
      this.pc.close();
    } catch {
      // Closing a half-negotiated connection can throw; it is being abandoned either way.
    }
    for (const listener of this.closeListeners) listener(reason);
  }

  private attach(dc: WrtcDataChannel): void {
    if (this.dc !== null || this.closedReason !== null) return void dc.close();
    this.dc = dc;
    dc.binaryType = "arraybuffer";
    dc.onopen = () => {
      clearTimeout(this.timeout);
      this.host.guard.settled(this);
      for (const listener of this.openListeners) listener();
    };
    dc.onmessage = (event: { data: unknown }) => {
      for (const listener of this.dataListeners) listener(event.data);
    };
    dc.onclose = () => this.fail("connection closed");
  }

  private async remoteSet(): Promise<void> {
    this.remoteDescribed = true;
    const early = this.earlyCandidates.splice(0);
    this.host.guard.releaseCandidates(early.length);
    for (const candidate of early) await this.addCandidate(candidate);
  }

  private async addCandidate(candidate: unknown): Promise<void> {
    if (this.closed) return;
    try {
      await this.pc.addIceCandidate(candidate as ConstructorParameters<typeof wrtc.RTCIceCandidate>[0]);
    } catch {
      this.host.guard.count("badCandidate");
    }
  }

  private signal(type: "OFFER" | "ANSWER" | "CANDIDATE", payload: Record<string, unknown>): void {
    this.host.sendSignal({
      type,
      dst: this.remotePeerId,
      payload: { ...payload, type: "data", connectionId: this.connectionId },
    });
  }

  /** Negotiation steps: a failure (bad SDP from the remote, say) closes this link, nothing else. */
  private async run(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (this.closed) return;
      this.host.guard.count("negotiationFailed");
      this.fail(`negotiation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
