/**
 * Input blobs sent (or being sent) to each volunteer in this session, so an input goes to a volunteer once
 * however many units it gets. A failed send is forgotten (the next assignment tries again); a volunteer
 * that disconnects or reports a fault is forgotten whole (it may have lost what it had).
 */
export class BlobSender {
  readonly #sent = new Map<string, Map<string, Promise<void>>>();
  readonly #bytesOf: (sha256: string) => Promise<Uint8Array<ArrayBuffer>>;
  readonly #send: (volunteerId: string, bytes: Uint8Array<ArrayBuffer>) => Promise<void>;

  constructor(
    bytesOf: (sha256: string) => Promise<Uint8Array<ArrayBuffer>>,
    send: (volunteerId: string, bytes: Uint8Array<ArrayBuffer>) => Promise<void>,
  ) {
    this.#bytesOf = bytesOf;
    this.#send = send;
  }

  /** Sends the blob unless it was sent (or is being sent) to this volunteer already. */
  ensure(volunteerId: string, sha256: string): Promise<void> {
    let sent = this.#sent.get(volunteerId);
    if (sent === undefined) this.#sent.set(volunteerId, (sent = new Map()));
    const pending = sent.get(sha256);
    if (pending !== undefined) return pending;
    const promise = (async () => {
      const bytes = await this.#bytesOf(sha256);
      await this.#send(volunteerId, bytes);
    })();
    sent.set(sha256, promise);
    promise.catch(() => sent.delete(sha256));
    return promise;
  }

  forget(volunteerId: string): void {
    this.#sent.delete(volunteerId);
  }
}
