import { sha256Hex } from "../base/digest.ts";
import type { BlobMessage } from "../protocol/peer.ts";
import { MeshError } from "./mesh-error.ts";
import type { BlobReceipt, OutgoingMessage } from "./mesh-types.ts";
import type { Reply } from "./pending-requests.ts";

/**
 * Blobs both ways: the sender announces the SHA-256 and waits for the receiver's `blob-ack`; the receiver
 * hashes what arrived (only blobs that fit its memory budget get that far: see peer-link.ts) and answers.
 */

/** The blob message for `data` (hashed once, here). */
export async function blobOffer(
  id: string,
  data: Uint8Array,
  label: string | undefined,
): Promise<Omit<BlobMessage, "v">> {
  return {
    type: "blob",
    id,
    sha256: await sha256Hex(data),
    byteLength: data.length,
    ...(label !== undefined ? { label } : {}),
  };
}

/** Throws a MeshError("blob_rejected") unless `reply` acknowledges exactly `sha256`. */
export function checkBlobAck(peerId: string, sha256: string, reply: Reply): void {
  const ack = reply.message;
  if (ack.type !== "blob-ack") {
    throw new MeshError("blob_rejected", `${peerId} answered the blob with ${ack.type}`);
  }
  if (ack.reason === "over_budget") {
    throw new MeshError("blob_rejected", `${peerId} refused the blob: it does not fit its memory budget`);
  }
  if (!ack.ok || ack.sha256 !== sha256) {
    throw new MeshError(
      "blob_rejected",
      `${peerId} received a blob with SHA-256 ${ack.sha256 ?? "(none)"}, sent ${sha256}`,
    );
  }
}

/** Hashes a received blob; returns whether it matches and the acknowledgement to send. */
export async function checkReceivedBlob(
  blob: BlobMessage,
  bytes: Uint8Array,
): Promise<{ ok: boolean; sha256: string; ack: OutgoingMessage }> {
  const sha256 = await sha256Hex(bytes);
  const ok = sha256 === blob.sha256;
  const ack: OutgoingMessage = {
    type: "blob-ack",
    replyTo: blob.id,
    ok,
    sha256,
    ...(ok ? {} : { reason: "hash_mismatch" as const }),
  };
  return { ok, sha256, ack };
}

/**
 * Sends bytes as one blob message through `request` and resolves when the peer acknowledged them with a
 * matching SHA-256. The default timeout grows with the size (1 s per MiB on top of `requestTimeoutMs`).
 */
export async function sendBlobVia(
  request: (message: OutgoingMessage, attachment: Uint8Array, timeoutMs: number) => Promise<Reply>,
  peerId: string,
  bytes: Uint8Array | ArrayBuffer,
  options: { id: string; label?: string; timeoutMs?: number; requestTimeoutMs: number; nowMs: () => number },
): Promise<BlobReceipt> {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const startMs = options.nowMs();
  const message = await blobOffer(options.id, data, options.label);
  const timeoutMs = options.timeoutMs ?? options.requestTimeoutMs + Math.ceil(data.length / 1024);
  checkBlobAck(peerId, message.sha256, await request(message as OutgoingMessage, data, timeoutMs));
  return {
    id: message.id,
    sha256: message.sha256,
    byteLength: data.length,
    elapsedMs: options.nowMs() - startMs,
  };
}
