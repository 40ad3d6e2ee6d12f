import type { Identity } from "../identity/identity.ts";
import { loadOrCreateIdentity } from "../identity/keystore.ts";
import type { IdentityStore } from "../identity/keystore.ts";
import type { Capabilities } from "../protocol/capabilities.ts";
import { PEERJS_KEY, PEERJS_MOUNT_PATH } from "../protocol/directory.ts";
import { probeCapabilities, probeEnvironmentFrom, type ProbeEnvironment } from "../env/capabilities-probe.ts";
import { DirectoryClient, directoryUrlFor, type WebSocketConstructor } from "./directory-client.ts";
import { Emitter } from "../base/emitter.ts";
import { Mesh, type MeshOptions } from "./mesh.ts";
import type { IceServer, PeerJsTransportOptions } from "./peerjs-transport.ts";
import { fetchServerConfig, type FetchLike } from "./server-config.ts";
import type { MeshTransport } from "./transport.ts";
import { CodedError } from "../base/coded-error.ts";

export type SwarmStatus = "connecting" | "connected" | "disconnected";

export type SwarmErrorCode = "identity_failed" | "config_failed" | "directory_failed" | "signaling_failed";

export class SwarmError extends CodedError<SwarmErrorCode> {
  override readonly name = "SwarmError";
}

export interface SwarmOptions {
  /** The site's origin (http/https); directory, PeerServer and API all live there. */
  origin: string;
  identityStore: IdentityStore;
  /** Use this identity instead of the profile's stored one (a second tab of the same profile). */
  identity?: Identity;
  /** Where to probe capabilities (default: globalThis). */
  environment?: ProbeEnvironment;
  fetchImpl?: FetchLike;
  WebSocketImpl?: WebSocketConstructor;
  /** Enables Mesh.debugSendRaw (the page's ?test=1 hook). */
  enableDebug?: boolean;
  mesh?: Omit<MeshOptions, "identity" | "transport" | "enableDebug">;
  /** false: this peer takes no work (a headless requester): announced so, never recruited. */
  volunteer?: boolean;
  /** Replaces PeerJS (a Node volunteer brings its own WebRTC). */
  createTransport?: (options: PeerJsTransportOptions) => MeshTransport;
}

export interface SwarmEvents {
  status: SwarmStatus;
  error: { readonly code: string; readonly message: string };
}

/** A started peer: identity, measured capabilities, directory session and WebRTC mesh, wired together. */
export interface Swarm {
  readonly identity: Identity;
  readonly capabilities: Capabilities;
  readonly probeNotes: readonly string[];
  readonly iceServers: readonly IceServer[];
  readonly directory: DirectoryClient;
  readonly mesh: Mesh;
  readonly status: SwarmStatus;
  on<K extends keyof SwarmEvents>(event: K, listener: (payload: SwarmEvents[K]) => void): () => void;
  close(): void;
}

/** Where the PeerServer of `origin` is, as PeerJS wants it spelled. */
export function peerServerAddress(origin: string): {
  host: string;
  port: number;
  secure: boolean;
  path: string;
} {
  const url = new URL(origin);
  const secure = url.protocol === "https:";
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 443 : 80,
    secure,
    path: PEERJS_MOUNT_PATH,
  };
}

const defaultFetch: FetchLike = (url, init) => fetch(url, init);

/**
 * Joins the swarm: identity (IndexedDB), capabilities (probe), directory session (WebSocket, proves the
 * key), ICE config (GET /api/v1/config with that session: TURN credentials are for joined peers only), then
 * the PeerJS registration with the directory's token and the mesh.
 * Rejects with a SwarmError naming the step that failed; nothing is left running then.
 */
export async function startSwarm(options: SwarmOptions): Promise<Swarm> {
  let identity: Identity;
  try {
    identity = options.identity ?? (await loadOrCreateIdentity(options.identityStore));
  } catch (error) {
    throw new SwarmError("identity_failed", `could not load or create the identity: ${String(error)}`);
  }
  const probed = await probeCapabilities(options.environment ?? probeEnvironmentFrom(globalThis));
  const probe =
    options.volunteer === false
      ? { ...probed, capabilities: { ...probed.capabilities, volunteer: false } }
      : probed;
  const directory = new DirectoryClient({
    url: directoryUrlFor(options.origin),
    identity,
    capabilities: probe.capabilities,
    ...(options.WebSocketImpl ? { WebSocketImpl: options.WebSocketImpl } : {}),
  });
  try {
    await directory.connect();
  } catch (error) {
    directory.close();
    throw new SwarmError("directory_failed", `could not join the directory: ${String(error)}`);
  }
  // After the join: TURN credentials are handed only to a peer with a live directory session.
  let iceServers: IceServer[];
  try {
    const session = { peerId: identity.peerId, sessionToken: directory.sessionToken ?? "" };
    iceServers = (await fetchServerConfig(options.origin, options.fetchImpl ?? defaultFetch, session))
      .iceServers;
  } catch (error) {
    directory.close();
    throw new SwarmError("config_failed", String(error instanceof Error ? error.message : error));
  }

  const transportOptions: PeerJsTransportOptions = {
    peerId: identity.peerId,
    ...peerServerAddress(options.origin),
    key: PEERJS_KEY,
    getToken: () => directory.sessionToken,
    iceServers,
  };
  // PeerJS is loaded only where it is used: in Node its CommonJS bundle has no ESM named exports, and a
  // Node peer brings its own transport (src/node/webrtc-transport.ts).
  const transport =
    options.createTransport?.(transportOptions) ??
    new (await import("./peerjs-transport.ts")).PeerJsTransport(transportOptions);
  const mesh = new Mesh({ ...options.mesh, identity, transport, enableDebug: options.enableDebug ?? false });
  try {
    await mesh.start();
  } catch (error) {
    mesh.close();
    directory.close();
    throw new SwarmError("signaling_failed", `could not register with the PeerServer: ${String(error)}`);
  }
  return new RunningSwarm(identity, probe.capabilities, probe.notes, iceServers, directory, mesh);
}

class RunningSwarm implements Swarm {
  private readonly emitter = new Emitter<SwarmEvents>();
  private readonly unsubscribe: (() => void)[] = [];
  private current: SwarmStatus = "connected";

  constructor(
    readonly identity: Identity,
    readonly capabilities: Capabilities,
    readonly probeNotes: readonly string[],
    readonly iceServers: readonly IceServer[],
    readonly directory: DirectoryClient,
    readonly mesh: Mesh,
  ) {
    mesh.updatePeers(directory.peers);
    this.unsubscribe.push(
      directory.onPeers((peers) => mesh.updatePeers(peers)),
      directory.onStatus((status) => {
        // The server drops our PeerJS registration with the directory session: re-register with the new token.
        if (status === "connected") mesh.reconnectSignaling();
        this.refresh();
      }),
      mesh.on("status", (event) => {
        if (event.status === "closed" && event.detail)
          this.emitter.emit("error", { code: "signaling_failed", message: event.detail });
        this.refresh();
      }),
    );
  }

  get status(): SwarmStatus {
    return this.current;
  }

  on<K extends keyof SwarmEvents>(event: K, listener: (payload: SwarmEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.mesh.close();
    this.directory.close();
    this.current = "disconnected";
    this.emitter.emit("status", "disconnected");
    this.emitter.clear();
  }

  private refresh(): void {
    const directory = this.directory.currentStatus;
    const mesh = this.mesh.status;
    const next: SwarmStatus =
      directory === "connected" && mesh === "open"
        ? "connected"
        : directory === "connecting" || mesh === "connecting"
          ? "connecting"
          : "disconnected";
    if (next === this.current) return;
    this.current = next;
    this.emitter.emit("status", next);
  }
}
