import {
  checkFreshness,
  peekSignedBody,
  verifyEnvelope,
  type FreshnessWindow,
} from "../identity/signed-envelope.ts";
import type { SignedBody, SignedEnvelope, SignedMessage } from "../protocol/peer.ts";
import type { Rejection } from "./peer-link.ts";
import type { ReplayWindow } from "./replay-window.ts";
import { envelopeOf, unpackBlobs, type ReceivedBlob } from "./signed-blobs.ts";

export type IntakeResult =
  | {
      readonly ok: true;
      readonly envelope: SignedEnvelope;
      readonly body: SignedBody;
      /** The blobs of its attachment (signed-blobs.ts), each matching its digest. */
      readonly blobs: readonly ReceivedBlob[];
    }
  | ({ readonly ok: false } & Rejection);

/**
 * The checks a signed envelope off the wire goes through, cheapest first: its age and its nonce (read from
 * the body before the signature is checked: they can only refuse, never accept), then the signature, and
 * then the digests of the blobs it carries (a forged message costs no hashing), and only then is the nonce
 * remembered. The per-link rate limit ran before any of this (peer-link.ts).
 */
export async function checkSignedIntake(
  message: SignedMessage,
  attachment: Uint8Array,
  recipient: string,
  window: Omit<FreshnessWindow, "nowMs">,
  replay: ReplayWindow,
  nowMs: number,
): Promise<IntakeResult> {
  const envelope = envelopeOf(message);
  const freshness: FreshnessWindow = { ...window, nowMs };
  const peek = peekSignedBody(envelope.body);
  if (!peek) return { ok: false, kind: "invalid", code: "bad_body", detail: "body has no atMs/nonce" };
  const stale = checkFreshness(peek.atMs, freshness);
  if (stale) return { ok: false, kind: stale.kind, code: stale.code, detail: stale.detail };
  const seen = replayRejection(replay.peek(envelope.from, peek.nonce), envelope.from, peek.nonce);
  if (seen) return seen;
  const result = await verifyEnvelope(envelope, { recipient, freshness });
  if (!result.ok) return { ok: false, kind: result.kind, code: result.code, detail: result.detail };
  const attached = await unpackBlobs(message, attachment);
  if (!attached.ok)
    return { ok: false, kind: "invalid", code: "blob_hash_mismatch", detail: attached.detail };
  // The same envelope may have been accepted over another link while this one was being verified.
  const recorded = replay.record(result.envelope.from, result.body.nonce, result.body.atMs);
  const again = replayRejection(recorded, result.envelope.from, result.body.nonce);
  if (again) return again;
  return { ok: true, envelope: result.envelope, body: result.body, blobs: attached.blobs };
}

function replayRejection(
  verdict: "ok" | "replayed" | "full",
  from: string,
  nonce: string,
): ({ readonly ok: false } & Rejection) | null {
  if (verdict === "replayed")
    return { ok: false, kind: "invalid", code: "replayed", detail: `envelope ${from}/${nonce} seen before` };
  if (verdict === "full")
    return {
      ok: false,
      kind: "refused",
      code: "replay_cache_full",
      detail: "too many signed messages in the age window; refused rather than forgetting nonces",
    };
  return null;
}
