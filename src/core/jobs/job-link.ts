import type { Mesh } from "../net/mesh.ts";
import type { SignedBody } from "../protocol/peer.ts";
import {
  DIST_WIRE_VERSION,
  decodeDistPayload,
  encodeDistPayload,
  type DistEnvelope,
} from "../protocol/distributed-frame.ts";
import type {
  UnitAssign,
  UnitCancel,
  UnitErrorMessage,
  UnitHeartbeat,
  UnitProgress,
  UnitResultMessage,
  UnitVerdict,
} from "../protocol/jobs.ts";
import { sha256Hex } from "../base/digest.ts";
import { Emitter } from "../base/emitter.ts";

/**
 * How the job runtimes talk: signed job bodies and content-addressed blobs between peers, plus a loopback
 * for the tab's own id, so a requester schedules units to its own volunteer without WebRTC (one tab alone
 * completes a job). Over the mesh every body is signed by its sender and `from` is the verified signer;
 * loopback bodies never leave the tab, so there is nothing to verify.
 */
export type JobBody =
  UnitAssign | UnitCancel | UnitHeartbeat | UnitProgress | UnitResultMessage | UnitErrorMessage | UnitVerdict;

export interface JobBodyEvent {
  /** The verified signer (or this tab, for loopback). */
  readonly from: string;
  readonly body: JobBody;
  /** The signed envelope as received (JSON), for audit, on unit results only (what is stored); else null. */
  readonly envelope: string | null;
}

/** A blob sent along with a body; its digest is known to the sender (job inputs and results are by digest). */
export interface JobBlob {
  readonly sha256: string;
  readonly bytes: Uint8Array;
}

export interface JobLink {
  readonly selfId: string;
  /**
   * Sends a signed body; `attach` are small blobs that travel in the same message (net/signed-blobs.ts)
   * and reach onBlob listeners just before the body, as if sent with sendBlob first (but unacknowledged).
   */
  sendBody(to: string, body: JobBody, attach?: readonly JobBlob[]): Promise<void>;
  /** Resolves once the peer acknowledged the bytes (their SHA-256 matched). */
  sendBlob(to: string, bytes: Uint8Array): Promise<void>;
  onBody(listener: (event: JobBodyEvent) => void): () => void;
  /** Blobs labelled JOB_BLOB_LABEL only. */
  onBlob(listener: (from: string, sha256: string, bytes: Uint8Array) => void): () => void;
  /** Sends one distributed-solve message (unsigned, on the authenticated channel; see protocol/distributed-frame.ts). */
  sendDist(to: string, envelope: DistEnvelope): Promise<void>;
  /** Distributed-solve messages, decoded but not yet parsed by the distributed schemas; `from` is the
   *  authenticated peer. Undecodable ones are dropped here. */
  onDist(listener: (from: string, envelope: DistEnvelope) => void): () => void;
  /** The link to a peer closed (its tab went away, or the network did). */
  onPeerClosed(listener: (peerId: string) => void): () => void;
  /** Peers with an open authenticated link, plus this tab. */
  connectedPeerIds(): string[];
  /** True when `peerId` is this tab or has an open authenticated link now (a halo part goes straight to it then). */
  isLinked(peerId: string): boolean;
  /** `holder` has work with `peerId` (the overlay dials it, within its link cap: net/mesh.ts want). */
  want(peerId: string, holder: string): void;
  /** `holder` is done with `peerId` (or, without one, with every peer it wanted). */
  release(holder: string, peerId?: string): void;
  close(): void;
}

/** The label of the blobs job runtimes send (matrices, results). Blobs with any other label (an expert
 *  model, "xp-model", or a test's) are not the job runtimes' business: they never reach onBlob, so they do
 *  not land in the job caches. */
export const JOB_BLOB_LABEL = "job";

const JOB_BODY_TYPES: ReadonlySet<string> = new Set([
  "unit-assign",
  "unit-cancel",
  "unit-heartbeat",
  "unit-progress",
  "unit-result",
  "unit-error",
  "unit-verdict",
]);

export function isJobBody(body: SignedBody): body is SignedBody & JobBody {
  return JOB_BODY_TYPES.has(body.type);
}

/** Strips the envelope header fields a received body carries (to, atMs, nonce). */
function jobBodyOf(body: SignedBody & JobBody): JobBody {
  const { to: _to, atMs: _atMs, nonce: _nonce, ...rest } = body;
  void _to;
  void _atMs;
  void _nonce;
  return rest as JobBody;
}

interface JobLinkEvents {
  body: JobBodyEvent;
  blob: { readonly from: string; readonly sha256: string; readonly bytes: Uint8Array };
  dist: { readonly from: string; readonly envelope: DistEnvelope };
  "peer-close": string;
}

/** The JobLink of a tab (or Node peer) on the mesh. */
export function meshJobLink(mesh: Mesh): JobLink {
  const selfId = mesh.peerId;
  const events = new Emitter<JobLinkEvents>();
  const emitDist = (
    from: string,
    payload: unknown,
    attachment: Uint8Array,
    head: Omit<DistEnvelope, "message">,
  ) => {
    let message: unknown;
    try {
      message = decodeDistPayload(payload, attachment);
    } catch {
      return; // a malformed reference: dropped like any invalid message
    }
    events.emit("dist", { from, envelope: { ...head, message } });
  };
  const offs = [
    mesh.on("message", (event) => {
      const m = event.message;
      if (m.type !== "dist") return;
      emitDist(event.from, m.payload, event.attachment, {
        kind: m.kind,
        unitId: m.unitId,
        attempt: m.attempt,
      });
    }),
    mesh.on("signed", (event) => {
      if (!isJobBody(event.body)) return;
      const body = jobBodyOf(event.body);
      // Serialised for the results only: they are the bodies stored for audit (intake.ts).
      const envelope = body.type === "unit-result" ? JSON.stringify(event.envelope) : null;
      events.emit("body", { from: event.from, body, envelope });
    }),
    mesh.on("blob", (event) => {
      if (event.label === JOB_BLOB_LABEL)
        events.emit("blob", { from: event.from, sha256: event.sha256, bytes: event.bytes });
    }),
    mesh.on("peer-close", (event) => events.emit("peer-close", event.peerId)),
  ];
  // Loopback deliveries go through a macrotask-free queue, but never synchronously: a sender must not
  // re-enter its own handler in the middle of an event.
  const later = (fn: () => void): void => void Promise.resolve().then(fn);
  return {
    selfId,
    async sendBody(to, body, attach = []) {
      if (to === selfId) {
        later(() => {
          for (const b of attach) events.emit("blob", { from: selfId, sha256: b.sha256, bytes: b.bytes });
          events.emit("body", { from: selfId, body, envelope: null });
        });
        return;
      }
      await mesh.sendSigned(
        to,
        body,
        attach.map((b) => ({ bytes: b.bytes, sha256: b.sha256, label: JOB_BLOB_LABEL })),
      );
    },
    async sendBlob(to, bytes) {
      if (to === selfId) {
        const sha = await sha256Hex(bytes);
        later(() => events.emit("blob", { from: selfId, sha256: sha, bytes }));
        return;
      }
      await mesh.sendBlob(to, bytes, { label: JOB_BLOB_LABEL });
    },
    async sendDist(to, envelope) {
      // Encoded for loopback too: the receiver gets its own copy and the same validation path.
      const { payload, attachment } = encodeDistPayload(envelope.message);
      const head = { kind: envelope.kind, unitId: envelope.unitId, attempt: envelope.attempt };
      if (to === selfId) {
        later(() => emitDist(selfId, structuredClone(payload), attachment, head));
        return;
      }
      await mesh.send(to, { type: "dist", dv: DIST_WIRE_VERSION, ...head, payload }, attachment);
    },
    onDist: (l) => events.on("dist", (e) => l(e.from, e.envelope)),
    onBody: (l) => events.on("body", l),
    onBlob: (l) => events.on("blob", (e) => l(e.from, e.sha256, e.bytes)),
    onPeerClosed: (l) => events.on("peer-close", l),
    connectedPeerIds: () => [selfId, ...mesh.connectedPeerIds()],
    isLinked: (peerId) => peerId === selfId || mesh.connectedPeerIds().includes(peerId),
    want: (peerId, holder) => mesh.want(peerId, holder),
    release: (holder, peerId) => mesh.release(holder, peerId),
    close() {
      for (const off of offs) off();
      events.clear();
    },
  };
}
