import { fromBase64Url, toBase64Url, utf8 } from "../base/encoding.ts";
import { peerIdMatchesKey, verifySignature, type Identity } from "../identity/identity.ts";
import { PEER_PROTOCOL_VERSION, type Hello, type HelloProof } from "../protocol/peer.ts";

/**
 * Mutual authentication on a fresh data channel. Each side sends `hello` (id, public key, fresh nonce), then,
 * on the other's hello, `hello-proof`: a signature over the transcript
 *
 *   signer id, verifier id, signer nonce, verifier nonce, signer DTLS fingerprint, verifier DTLS fingerprint
 *
 * The nonces make a proof useless on any other channel. The fingerprints (from each side's own view of the
 * SDP) bind the proof to this DTLS session: if the signaling server swapped in its own certificates to sit in
 * the middle, the two sides would see different fingerprints and every proof would fail.
 * The signer's id must be the hash of its key and the id PeerJS says the connection comes from.
 */
const HELLO_DOMAIN = "open-swarm/hello/v1\n";

/** Both DTLS certificate fingerprints as this side sees them ("" when the transport cannot tell). */
export interface ChannelFingerprints {
  readonly local: string;
  readonly remote: string;
}

/** The first `a=fingerprint:` line of an SDP, normalised ("sha-256 AB:CD:..."), or "" if none. */
export function fingerprintFromSdp(sdp: string | null | undefined): string {
  const match = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp ?? "");
  return match ? `${match[1]!.toLowerCase()} ${match[2]!.toUpperCase()}` : "";
}

interface TranscriptParts {
  signerPeerId: string;
  verifierPeerId: string;
  signerNonce: string;
  verifierNonce: string;
  signerFingerprint: string;
  verifierFingerprint: string;
}

export function helloTranscript(p: TranscriptParts): Uint8Array {
  return utf8.encode(
    HELLO_DOMAIN +
      JSON.stringify([
        p.signerPeerId,
        p.verifierPeerId,
        p.signerNonce,
        p.verifierNonce,
        p.signerFingerprint,
        p.verifierFingerprint,
      ]),
  );
}

export type HandshakeFailureCode =
  "id_mismatch" | "key_mismatch" | "bad_proof" | "unexpected_message" | "timeout";

export type HandshakeStep =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: HandshakeFailureCode; readonly detail: string };

/** One side of one handshake. Feed it the remote hello and proof, in order; it never throws on bad input. */
export class Handshake {
  readonly localNonce = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  private remoteHello: Hello | null = null;
  private verified = false;

  constructor(
    private readonly identity: Identity,
    /** The id the transport (PeerServer) says this connection comes from. */
    private readonly claimedRemotePeerId: string,
    private readonly fingerprints: () => ChannelFingerprints,
    /** The key the directory announced for this peer, if known. */
    private readonly expectedPublicKey: string | null,
  ) {}

  get remotePublicKey(): string | null {
    return this.verified ? (this.remoteHello?.publicKey ?? null) : null;
  }

  get done(): boolean {
    return this.verified;
  }

  hello(): Hello {
    return {
      v: PEER_PROTOCOL_VERSION,
      type: "hello",
      peerId: this.identity.peerId,
      publicKey: this.identity.publicKey,
      nonce: this.localNonce,
    };
  }

  /** Checks the remote hello; on success returns our proof to send. */
  async onHello(hello: Hello): Promise<HandshakeStep & { proof?: HelloProof }> {
    if (this.remoteHello) return { ok: false, code: "unexpected_message", detail: "second hello" };
    if (hello.peerId !== this.claimedRemotePeerId) {
      return {
        ok: false,
        code: "id_mismatch",
        detail: `hello claims ${hello.peerId} on a connection from ${this.claimedRemotePeerId}`,
      };
    }
    if (!(await peerIdMatchesKey(hello.peerId, hello.publicKey))) {
      return {
        ok: false,
        code: "key_mismatch",
        detail: `${hello.peerId} is not the id of the key in its hello`,
      };
    }
    if (this.expectedPublicKey !== null && hello.publicKey !== this.expectedPublicKey) {
      return { ok: false, code: "key_mismatch", detail: "hello key differs from the directory's" };
    }
    if (hello.nonce === this.localNonce)
      return { ok: false, code: "unexpected_message", detail: "reflected nonce" };
    this.remoteHello = hello;
    const fp = this.fingerprints();
    const transcript = helloTranscript({
      signerPeerId: this.identity.peerId,
      verifierPeerId: hello.peerId,
      signerNonce: this.localNonce,
      verifierNonce: hello.nonce,
      signerFingerprint: fp.local,
      verifierFingerprint: fp.remote,
    });
    const signature = toBase64Url(await this.identity.sign(transcript));
    return { ok: true, proof: { v: PEER_PROTOCOL_VERSION, type: "hello-proof", signature } };
  }

  /** Checks the remote proof (which must follow its hello). */
  async onProof(proof: HelloProof): Promise<HandshakeStep> {
    const hello = this.remoteHello;
    if (!hello || this.verified)
      return { ok: false, code: "unexpected_message", detail: "proof without a pending hello" };
    const fp = this.fingerprints();
    const transcript = helloTranscript({
      signerPeerId: hello.peerId,
      verifierPeerId: this.identity.peerId,
      signerNonce: hello.nonce,
      verifierNonce: this.localNonce,
      signerFingerprint: fp.remote,
      verifierFingerprint: fp.local,
    });
    let signature: Uint8Array;
    try {
      signature = fromBase64Url(proof.signature);
    } catch {
      return { ok: false, code: "bad_proof", detail: "signature is not base64url" };
    }
    if (!(await verifySignature(hello.publicKey, transcript, signature))) {
      return {
        ok: false,
        code: "bad_proof",
        detail: `handshake signature from ${hello.peerId} does not verify`,
      };
    }
    this.verified = true;
    return { ok: true };
  }
}
