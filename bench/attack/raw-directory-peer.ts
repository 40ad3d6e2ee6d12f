import { WebSocket } from "ws";
import { toBase64Url } from "../../src/core/base/encoding.ts";
import type { Identity } from "../../src/core/identity/identity.ts";
import type { Capabilities } from "../../src/core/protocol/capabilities.ts";
import { joinChallengeBytes } from "../../src/core/protocol/directory.ts";

/** What the benches' raw peers announce: a 4-core CPU volunteer without WebGPU. */
export function benchCapabilities(runtime: Capabilities["runtime"]): Capabilities {
  return {
    webgpu: null,
    wasm: { simd: true, threads: false },
    hardwareConcurrency: 4,
    crossOriginIsolated: true,
    benchmarkMflops: 500,
    runtime,
  };
}

/**
 * A peer that is not our app: a raw WebSocket that speaks the directory protocol with a real signed join,
 * counts every frame it receives, and keeps the view the server gave it. Used by the join-storm attack
 * (bench/attack/join-storm.ts) and its test. It answers in whatever version the challenge came in and
 * understands v1's per-peer frames too, so the same storm can be run against an older server for comparison.
 */
export class RawDirectoryPeer {
  readonly framesByType = new Map<string, number>();
  bytesReceived = 0;
  welcomeBytes = 0;
  welcomePeers = 0;
  /** Peer records received (listed, joined, updated or left), however many frames carried them. */
  recordsReceived = 0;
  /** Peers the server told us about (self excluded). */
  readonly known = new Map<string, Record<string, unknown>>();
  /** The server's count of other peers online (v2); v1 servers have no such field. */
  total: number | null = null;
  closeCode: number | null = null;
  readonly errors: string[] = [];
  readonly welcomed: Promise<void>;
  private version = 0;
  private readonly ws: WebSocket;

  constructor(
    url: string,
    readonly identity: Identity,
    private readonly capabilities: Capabilities,
    options: { localAddress?: string | undefined } = {},
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, localAddress: options.localAddress });
    this.welcomed = new Promise((resolve, reject) => {
      this.ws.on("message", (data) => {
        const text = String(data);
        this.bytesReceived += Buffer.byteLength(text);
        const message = JSON.parse(text) as Record<string, unknown>;
        const type = String(message["type"]);
        this.framesByType.set(type, (this.framesByType.get(type) ?? 0) + 1);
        if (type === "welcome") {
          this.welcomeBytes = Buffer.byteLength(text);
          this.welcomePeers = (message["peers"] as unknown[]).length;
          resolve();
        }
        if (type === "error") this.errors.push(String(message["code"]));
        void this.onMessage(type, message);
      });
      this.ws.on("close", (code) => {
        this.closeCode = code;
        reject(new Error(`closed ${code} before the welcome (${this.errors.join(",")})`));
      });
      this.ws.on("error", () => {});
    });
    // Tests await `welcomed` where they care; an unawaited rejection must not fail the run.
    this.welcomed.catch(() => {});
  }

  send(message: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ v: this.version, ...message }));
  }

  updateCapabilities(capabilities: Capabilities): void {
    this.send({ type: "update-capabilities", capabilities });
  }

  close(): void {
    this.ws.terminate();
  }

  private async onMessage(type: string, message: Record<string, unknown>): Promise<void> {
    switch (type) {
      case "challenge": {
        this.version = Number(message["v"]);
        const nonce = String(message["nonce"]);
        const signature = await this.identity.sign(joinChallengeBytes(nonce));
        this.send({
          type: "join",
          peerId: this.identity.peerId,
          publicKey: this.identity.publicKey,
          capabilities: this.capabilities,
          signature: toBase64Url(signature),
        });
        return;
      }
      case "welcome":
      case "peers-sample":
        this.recordsReceived += (message["peers"] as unknown[]).length;
        this.addPeers(message["peers"]);
        this.readTotal(message);
        return;
      case "peers-changed":
        this.recordsReceived += (["left", "joined", "updated"] as const).reduce(
          (sum, key) => sum + (message[key] as unknown[]).length,
          0,
        );
        for (const peerId of message["left"] as string[]) this.known.delete(peerId);
        this.addPeers(message["joined"]);
        this.addPeers(message["updated"]);
        this.readTotal(message);
        return;
      case "pong":
        this.readTotal(message);
        return;
      // v1 (the server before the bounded directory): one frame per peer and change.
      case "peer-joined":
      case "peer-updated":
        this.recordsReceived++;
        this.addPeers([message["peer"]]);
        return;
      case "peer-left":
        this.recordsReceived++;
        this.known.delete(String(message["peerId"]));
        return;
    }
  }

  private addPeers(peers: unknown): void {
    for (const peer of peers as Record<string, unknown>[]) {
      const peerId = String(peer["peerId"]);
      if (peerId !== this.identity.peerId) this.known.set(peerId, peer);
    }
  }

  private readTotal(message: Record<string, unknown>): void {
    if (typeof message["total"] === "number") this.total = message["total"];
  }
}

/**
 * True once every announcement has arrived: each peer's view is symmetric (the server makes acquaintance
 * symmetric in v2; in v1 everyone knows everyone), so a one-sided entry means a frame is still in flight.
 */
export function viewsSettled(swarm: readonly RawDirectoryPeer[]): boolean {
  const byId = new Map(swarm.map((p) => [p.identity.peerId, p]));
  return swarm.every((p) => [...p.known.keys()].every((id) => byId.get(id)?.known.has(p.identity.peerId)));
}
