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
      readonly code: "bad_envelope" | "bad_body" | "wrong_recipient";
      readonly detail: string;
    };

export type EnvelopeVerification =
  { readonly ok: true; readonly envelope: SignedEnvelope; readonly body: SignedBody } | EnvelopeRejection;

export interface VerifyOptions {
  /** When set, a body addressed to another peer is rejected (`to: null` is accepted). */
  recipient?: string;
}

/** Checks an envelope from `unknown`: shape, key ↔ id binding, signature over the exact body, then the body. */
export async function verifyEnvelope(
  value: unknown,
  options: VerifyOptions = {},
): Promise<EnvelopeVerification> {
  const parsed = signedEnvelopeSchema.safeParse(value);
  if (!parsed.success)
    return { ok: false, kind: "invalid", code: "bad_envelope", detail: parsed.error.message.slice(0, 300) };
  const envelope = parsed.data;
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
