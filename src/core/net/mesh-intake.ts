import type { BlobMessage, PeerMessage, SignedMessage } from "../protocol/peer.ts";
import type { Emitter } from "../base/emitter.ts";
import { checkReceivedBlob } from "./blob-transfer.ts";
import type { MeshConfig } from "./mesh-config.ts";
import type { MeshTally } from "./mesh-tally.ts";
import type { MeshEvents, OutgoingMessage } from "./mesh-types.ts";
import type { PeerLink, Rejection } from "./peer-link.ts";
import type { PendingRequests } from "./pending-requests.ts";
import type { ReplayWindow } from "./replay-window.ts";
import { checkSignedIntake } from "./signed-intake.ts";

/** What the intake needs from its mesh: the mesh's own state, shared, never copied. */
export interface MeshIntakeHost {
  readonly peerId: string;
  readonly options: MeshConfig;
  readonly emitter: Emitter<MeshEvents>;
  readonly tally: MeshTally;
  readonly pending: PendingRequests;
  readonly replay: ReplayWindow;
  send(peerId: string, message: OutgoingMessage): Promise<void>;
  touch(peerId: string, type: PeerMessage["type"]): void;
  rejected(peerId: string, rejection: Rejection): void;
  statsChanged(): void;
}

/**
 * What the mesh does with a message a link has already framed, rate-limited and schema-checked: signed
 * messages have their signature, addressee, age and replay checked (signed-intake.ts), blobs their hash,
 * pings get a pong, replies settle the request waiting for them, and listeners hear of the rest.
 * Kept apart from mesh.ts, which owns the links: this file is only about one message's way in.
 */
export class MeshIntake {
  constructor(private readonly host: MeshIntakeHost) {}

  /** Runs one message at a time per link (peer-link.ts waits for it); its bytes are held until it returns. */
  async onMessage(link: PeerLink, message: PeerMessage, attachment: Uint8Array): Promise<void> {
    switch (message.type) {
      case "signed":
        return this.onSigned(link, message, attachment);
      case "blob":
        return this.onBlob(link, message, attachment);
      case "ping":
        // Pings are rate-limited per link before they get here (a pong each is all they cost).
        this.host.send(link.peerId, { type: "pong", replyTo: message.id }).catch(() => undefined);
        break;
      default:
        break;
    }
    this.accept(link, message, attachment);
  }

  private accept(link: PeerLink, message: PeerMessage, attachment: Uint8Array): void {
    const host = this.host;
    host.tally.totals.messagesReceived++;
    host.touch(link.peerId, message.type);
    if (message.replyTo !== undefined)
      host.pending.resolve(link.peerId, message.replyTo, { message, attachment });
    host.emitter.emit("message", { from: link.peerId, message, attachment });
    host.statsChanged();
  }

  private async onSigned(link: PeerLink, message: SignedMessage, attachment: Uint8Array): Promise<void> {
    const { options: o, emitter, tally } = this.host;
    const result = await checkSignedIntake(
      message,
      attachment,
      this.host.peerId,
      { maxAgeMs: o.maxMessageAgeMs, maxSkewMs: o.maxClockSkewMs },
      this.host.replay,
      o.nowMs(),
    );
    if (!result.ok) {
      this.host.rejected(link.peerId, { kind: result.kind, code: result.code, detail: result.detail });
      return;
    }
    for (const blob of result.blobs) {
      tally.totals.blobsReceived++;
      emitter.emit("blob", { from: link.peerId, id: message.id ?? "attached", ...blob });
    }
    emitter.emit("signed", {
      via: link.peerId,
      from: result.envelope.from,
      envelope: result.envelope,
      body: result.body,
    });
    this.accept(link, result.envelope, new Uint8Array(0));
  }

  /** A blob that got here fit the memory budget (it was refused at its first frame otherwise). */
  private async onBlob(link: PeerLink, blob: BlobMessage, bytes: Uint8Array): Promise<void> {
    const { ok, sha256, ack } = await checkReceivedBlob(blob, bytes);
    this.host.send(link.peerId, ack).catch(() => undefined);
    if (!ok) {
      this.host.rejected(link.peerId, {
        kind: "invalid",
        code: "blob_hash_mismatch",
        detail: `blob ${blob.id} hashes to ${sha256}`,
      });
      return;
    }
    this.host.tally.totals.blobsReceived++;
    this.host.emitter.emit("blob", {
      from: link.peerId,
      id: blob.id,
      sha256,
      bytes,
      label: blob.label ?? null,
    });
    this.accept(link, blob, bytes);
  }
}
