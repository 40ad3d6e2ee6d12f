import { availableParallelism } from "node:os";
import { WebSocket } from "ws";
import type { IdentityStore } from "../core/identity/keystore.ts";
import { probeEnvironmentFrom } from "../core/env/capabilities-probe.ts";
import type { WebSocketConstructor } from "../core/net/directory-client.ts";
import { startSwarm, type Swarm, type SwarmOptions } from "../core/net/swarm.ts";
import type { SignalGuardLimits } from "./signal-guard.ts";
import { NodeWebRtcTransport } from "./webrtc-transport.ts";

export interface NodeSwarmOptions {
  /** The server's origin, as a tab would have it (http://127.0.0.1:PORT). */
  readonly server: string;
  readonly identityStore: IdentityStore;
  /** Cores this peer announces (its --threads, or the machine's). */
  readonly cores?: number;
  readonly mesh?: SwarmOptions["mesh"];
  /** false: a requester-only peer (`open-swarm submit`): announced so, never recruited for work. */
  readonly volunteer?: boolean;
  /** Caps on what remote peers may make this peer hold while they negotiate (signal-guard.ts). */
  readonly signalLimits?: Partial<SignalGuardLimits>;
}

/** A Node swarm and its transport (whose signaling counters the volunteer reports). */
export type NodeSwarm = Swarm & { readonly transport: NodeWebRtcTransport };

/**
 * A Node peer's link cap: more than a tab's 32 (a server or a desktop holds more connections than a tab),
 * still a cap. `--max-links` changes it.
 */
export const NODE_MAX_LINKS = 64;

/**
 * A Node peer joins exactly as a tab does (core/net/swarm.ts: directory session, ICE config, PeerServer
 * registration, mesh); only the environment differs: `ws` for WebSockets, libwebrtc for the data channels,
 * the core count from the OS. Like a tab it runs the overlay ("on-demand": it dials only the peers it has
 * work with, and unused links close).
 */
export async function startNodeSwarm(options: NodeSwarmOptions): Promise<NodeSwarm> {
  const environment = probeEnvironmentFrom({
    ...globalThis,
    WebAssembly: globalThis.WebAssembly,
    performance: globalThis.performance,
    process: globalThis.process,
    SharedArrayBuffer: globalThis.SharedArrayBuffer,
    navigator: { hardwareConcurrency: options.cores ?? availableParallelism() },
  });
  let transport: NodeWebRtcTransport | null = null;
  const swarm = await startSwarm({
    origin: options.server,
    identityStore: options.identityStore,
    environment,
    WebSocketImpl: WebSocket as unknown as WebSocketConstructor,
    createTransport: (transportOptions) =>
      (transport = new NodeWebRtcTransport({
        ...transportOptions,
        ...(options.signalLimits ? { signalLimits: options.signalLimits } : {}),
      })),
    mesh: { dialPolicy: "on-demand", maxLinks: NODE_MAX_LINKS, ...options.mesh },
    ...(options.volunteer === false ? { volunteer: false } : {}),
  });
  return Object.assign(swarm, { transport: transport! });
}
