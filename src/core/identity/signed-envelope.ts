import { fromBase64Url, toBase64Url, utf8 } from "../base/encoding.ts";
import { peerIdMatchesKey, verifySignature, type Identity } from "./identity.ts";
import {
  PEER_PROTOCOL_VERSION,
  parseSignedBody,
  signedEnvelopeSchema,
  type SignedBody,
  type SignedBodyInput,
  type SignedEnvelope,
} from "../protocol/peer.ts";

/**
 * Signing input = this prefix + the exact body text. The prefix separates these signatures from every other
 * use of the key (the handshake transcript has its own), so one can never be replayed as the other.
 */
const SIGNED_BODY_DOMAIN = "open-swarm/signed-body/v1\n";

export function signedBodySigningInput(body: string): Uint8Array {
  return utf8.encode(SIGNED_BODY_DOMAIN + body);
}

export function randomNonce(bytes: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export interface SignOptions {
  /** Recipient peer id, or null for a body meant for anyone. */
  to: string | null;
  nowMs?: number;
  /** Correlation ids for Mesh.request / replies. */
  id?: string;
  replyTo?: string;
}

export async function signEnvelope(
  identity: Identity,
  input: SignedBodyInput,
  options: SignOptions,
): Promise<SignedEnvelope> {
  const body: SignedBody = {
    ...input,
    to: options.to,
    atMs: Math.floor(options.nowMs ?? Date.now()),
    nonce: randomNonce(16),
  };
  const text = JSON.stringify(body);
  const sig = toBase64Url(await identity.sign(signedBodySigningInput(text)));
  return {
    v: PEER_PROTOCOL_VERSION,
    type: "signed",
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
    from: identity.peerId,
    publicKey: identity.publicKey,
    body: text,
    sig,
  };
}

/** Forged: the signature or key binding is wrong. Invalid: genuinely signed, but not acceptable content. */
export type EnvelopeRejection =
  | {
      readonly ok: false;
      readonly kind: "forged";
      readonly code: "key_mismatch" | "bad_signature";
      readonly detail: string;
    }
  | {
      readonly ok: false;
      readonly kind: "invalid";
      readonly code: "bad_envelope" | "bad_body" | "wrong_recipient" | "stale" | "from_future";
      readonly detail: string;
    };

export type EnvelopeVerification =
  { readonly ok: true; readonly envelope: SignedEnvelope; readonly body: SignedBody } | EnvelopeRejection;

/**
 * How fresh a body must be to be accepted off the wire: signed at most `maxAgeMs` ago and at most
 * `maxSkewMs` in the future (clocks differ between machines). Bounding the age is what lets a receiver
 * remember nonces for a fixed window only: anything older is refused by its age, not by memory.
 */
export interface FreshnessWindow {
  readonly nowMs: number;
  readonly maxAgeMs: number;
  readonly maxSkewMs: number;
}

export const DEFAULT_MAX_MESSAGE_AGE_MS = 180_000;
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000;

export interface VerifyOptions {
  /** When set, a body addressed to another peer is rejected (`to: null` is accepted). */
  recipient?: string;
  /** When set, a body signed outside this window is rejected (before the signature is checked). */
  freshness?: FreshnessWindow;
}

/** The fields a receiver needs before paying for a signature check; null when the body does not have them. */
export function peekSignedBody(bodyText: string): { atMs: number; nonce: string } | null {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null) return null;
  const { atMs, nonce } = json as { atMs?: unknown; nonce?: unknown };
  if (typeof atMs !== "number" || !Number.isFinite(atMs) || typeof nonce !== "string") return null;
  return { atMs, nonce };
}

/** Null when `atMs` is inside the window, else why not. */
export function checkFreshness(atMs: number, window: FreshnessWindow): EnvelopeRejection | null {
  if (atMs < window.nowMs - window.maxAgeMs) {
    return {
      ok: false,
      kind: "invalid",
      code: "stale",
      detail: `signed ${window.nowMs - atMs} ms ago, limit ${window.maxAgeMs} ms`,
    };
  }
  if (atMs > window.nowMs + window.maxSkewMs) {
    return {
      ok: false,
      kind: "invalid",
      code: "from_future",
      detail: `signed ${atMs - window.nowMs} ms in the future, allowed skew ${window.maxSkewMs} ms`,
    };
  }
  return null;
}

/**
 * Checks an envelope from `unknown`: shape, age (when asked), key ↔ id binding, signature over the exact
 * body, then the body. Stored envelopes (results, receipts) are re-checked later without `freshness`.
 */
export async function verifyEnvelope(
  value: unknown,
  options: VerifyOptions = {},
): Promise<EnvelopeVerification> {
  const parsed = signedEnvelopeSchema.safeParse(value);
  if (!parsed.success)
    return { ok: false, kind: "invalid", code: "bad_envelope", detail: parsed.error.message.slice(0, 300) };
  const envelope = parsed.data;
  if (options.freshness) {
    // Cheap before expensive: the age read from the unverified body only ever refuses, never accepts.
    const peek = peekSignedBody(envelope.body);
    if (!peek) return { ok: false, kind: "invalid", code: "bad_body", detail: "body has no atMs/nonce" };
    const stale = checkFreshness(peek.atMs, options.freshness);
    if (stale) return stale;
  }
  if (!(await peerIdMatchesKey(envelope.from, envelope.publicKey))) {
    return {
      ok: false,
      kind: "forged",
      code: "key_mismatch",
      detail: `${envelope.from} is not the id of the envelope's key`,
    };
  }
  let signature: Uint8Array;
  try {
    signature = fromBase64Url(envelope.sig);
  } catch {
    return { ok: false, kind: "forged", code: "bad_signature", detail: "signature is not base64url" };
  }
  if (!(await verifySignature(envelope.publicKey, signedBodySigningInput(envelope.body), signature))) {
    return {
      ok: false,
      kind: "forged",
      code: "bad_signature",
      detail: `signature does not match the body from ${envelope.from}`,
    };
  }
  const body = parseSignedBody(envelope.body);
  if (!body.ok) return { ok: false, kind: "invalid", code: "bad_body", detail: body.detail };
  if (options.recipient !== undefined && body.body.to !== null && body.body.to !== options.recipient) {
    return {
      ok: false,
      kind: "invalid",
      code: "wrong_recipient",
      detail: `body is addressed to ${body.body.to}`,
    };
  }
  return { ok: true, envelope, body: body.body };
}
