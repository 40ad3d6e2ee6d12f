import { sha256Hex } from "../base/digest.ts";
import type { SignedEnvelope, SignedMessage } from "../protocol/peer.ts";

/**
 * Blobs that ride in the attachment of a signed message (protocol/peer.ts `signedMessageSchema`): the
 * sender concatenates them and lists digest and length of each; the receiver cuts them apart and hashes
 * each one against its digest. A mismatch drops the message whole: a peer that lies about one blob is not
 * believed about the body it came with.
 */

/** A blob to attach; `sha256` when the caller knows it already (inputs are stored by digest), else hashed here. */
export interface AttachedBlob {
  readonly bytes: Uint8Array;
  readonly sha256?: string;
  readonly label?: string;
}

/** The message that carries `envelope` with `blobs` in its attachment (none: the envelope alone). */
export async function withBlobs(
  envelope: SignedEnvelope,
  blobs: readonly AttachedBlob[],
): Promise<{ message: SignedMessage; attachment: Uint8Array | undefined }> {
  if (blobs.length === 0) return { message: envelope, attachment: undefined };
  const meta = await Promise.all(
    blobs.map(async (b) => ({
      sha256: b.sha256 ?? (await sha256Hex(b.bytes)),
      byteLength: b.bytes.length,
      ...(b.label !== undefined ? { label: b.label } : {}),
    })),
  );
  const attachment = new Uint8Array(blobs.reduce((sum, b) => sum + b.bytes.length, 0));
  let offset = 0;
  for (const b of blobs) {
    attachment.set(b.bytes, offset);
    offset += b.bytes.length;
  }
  return { message: { ...envelope, blobs: meta }, attachment };
}

/** The signed envelope of a received message: what was signed, and what is checked, emitted and stored. */
export function envelopeOf(message: SignedMessage): SignedEnvelope {
  const { blobs: _blobs, ...envelope } = message;
  void _blobs;
  return envelope;
}

export interface ReceivedBlob {
  readonly sha256: string;
  readonly bytes: Uint8Array;
  readonly label: string | null;
}

export type UnpackResult =
  { readonly ok: true; readonly blobs: ReceivedBlob[] } | { readonly ok: false; readonly detail: string };

/**
 * The blobs of a received signed message, each hashed against its declared digest. The lengths were
 * checked against the attachment when the message was parsed (protocol/peer.ts). Each blob is copied out
 * of the attachment, so a receiver keeping one does not keep the others' bytes alive.
 */
export async function unpackBlobs(message: SignedMessage, attachment: Uint8Array): Promise<UnpackResult> {
  const blobs: ReceivedBlob[] = [];
  let offset = 0;
  for (const meta of message.blobs ?? []) {
    const bytes = attachment.slice(offset, offset + meta.byteLength);
    offset += meta.byteLength;
    const sha256 = await sha256Hex(bytes);
    if (sha256 !== meta.sha256) {
      return {
        ok: false,
        detail: `attached blob ${blobs.length} hashes to ${sha256}, declared ${meta.sha256}`,
      };
    }
    blobs.push({ sha256, bytes, label: meta.label ?? null });
  }
  return { ok: true, blobs };
}
