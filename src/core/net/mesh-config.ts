import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS } from "../identity/signed-envelope.ts";
import { DEFAULT_BACKPRESSURE, type BackpressureOptions } from "./backpressure.ts";
import { DEFAULT_REASSEMBLY_LIMITS, type ReassemblyLimits } from "./framing.ts";
import { defaultPeerPreference, type AdmissionOptions } from "./link-admission.ts";
import { DEFAULT_RATE_LIMITS, type RateLimits } from "./link-limits.ts";
import { DEFAULT_MEMORY_BUDGET, type MemoryBudgetOptions } from "./memory-budget.ts";
import type { DialPolicy, MeshOptions, MeshPeerInfo } from "./mesh-types.ts";

/** How the mesh admits incoming links, from its config (link-admission.ts). */
export function admissionOptions(o: MeshConfig): AdmissionOptions {
  return {
    maxLinks: o.maxLinks,
    unknownPeerGraceMs: o.unknownPeerGraceMs,
    maxHeldUnknown: 8,
    heldBufferBytes: 64 * 1024,
    floodPenaltyMs: o.rateLimits.floodPenaltyMs,
    nowMs: o.nowMs,
  };
}

/** MeshOptions with every default filled in (one place, so the mesh reads plain fields). */
export interface MeshConfig {
  readonly limits: ReassemblyLimits;
  readonly backpressure: BackpressureOptions;
  readonly rateLimits: RateLimits;
  readonly memoryBudget: MemoryBudgetOptions;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxInvalidPerLink: number;
  readonly maxLinks: number;
  readonly dialPolicy: DialPolicy;
  readonly unusedLinkMs: number;
  readonly unknownPeerGraceMs: number;
  readonly peerPreference: (a: MeshPeerInfo, b: MeshPeerInfo) => number;
  readonly maxMessageAgeMs: number;
  readonly maxClockSkewMs: number;
  readonly replayCacheMax: number;
  readonly redialBaseMs: number;
  readonly redialMaxMs: number;
  readonly enableDebug: boolean;
  readonly nowMs: () => number;
}

export const DEFAULT_MAX_LINKS = 32;

export function resolveMeshConfig(options: MeshOptions): MeshConfig {
  const pingIntervalMs = options.pingIntervalMs ?? 5_000;
  return {
    limits: { ...DEFAULT_REASSEMBLY_LIMITS, ...options.limits },
    backpressure: { ...DEFAULT_BACKPRESSURE, ...options.backpressure },
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    memoryBudget: { ...DEFAULT_MEMORY_BUDGET, ...options.memoryBudget },
    pingIntervalMs,
    idleTimeoutMs: options.idleTimeoutMs ?? 3 * pingIntervalMs + 1_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 20_000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    maxInvalidPerLink: options.maxInvalidPerLink ?? 256,
    maxLinks: options.maxLinks ?? DEFAULT_MAX_LINKS,
    dialPolicy: options.dialPolicy ?? "all-known",
    unusedLinkMs: options.unusedLinkMs ?? 60_000,
    unknownPeerGraceMs: options.unknownPeerGraceMs ?? 5_000,
    peerPreference: options.peerPreference ?? defaultPeerPreference,
    maxMessageAgeMs: options.maxMessageAgeMs ?? DEFAULT_MAX_MESSAGE_AGE_MS,
    maxClockSkewMs: options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
    // Rate × window with room: 32 links × 50 signed/s × (3 + 1) min would be 384k; honest traffic is far less.
    replayCacheMax: options.replayCacheMax ?? 262_144,
    redialBaseMs: options.redialBaseMs ?? 1_000,
    redialMaxMs: options.redialMaxMs ?? 30_000,
    enableDebug: options.enableDebug ?? false,
    nowMs: options.nowMs ?? (() => Date.now()),
  };
}
