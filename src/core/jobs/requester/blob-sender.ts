import type { JobBlob } from "../job-link.ts";

/**
 * Input blobs sent (or being sent) to each volunteer in this session, so an input goes to a volunteer once
 * however many units it gets. A failed send is forgotten (the next assignment tries again); a volunteer
 * that disconnects or reports a fault is forgotten whole (it may have lost what it had).
 *
 * Small inputs ride along with the assignment that needs them (`attach`: one message instead of a blob, its
 * acknowledgement and the body); large ones (a matrix) go as blobs of their own after it (`ensure`).
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
    const sent = this.#of(volunteerId);
    const pending = sent.get(sha256);
    if (pending !== undefined) return pending;
    return this.#track(sent, sha256, (async () => this.#send(volunteerId, await this.#bytesOf(sha256)))());
  }

  /**
   * The blobs of `refs` this volunteer has not been sent, in order, each taken while all together stay
   * within `maxBytes`, handed to `send` to go with its message. They count as sent from now on, and are
   * forgotten again if `send` fails. Returns what `send` resolved to.
   */
  attach<T>(
    volunteerId: string,
    refs: readonly { sha256: string; byteLength: number }[],
    maxBytes: number,
    send: (blobs: JobBlob[]) => Promise<T>,
  ): Promise<T> {
    const sent = this.#of(volunteerId);
    const taken: string[] = [];
    let bytes = 0;
    for (const ref of refs) {
      if (sent.has(ref.sha256) || taken.includes(ref.sha256) || bytes + ref.byteLength > maxBytes) continue;
      taken.push(ref.sha256);
      bytes += ref.byteLength;
    }
    const result = (async () =>
      send(
        await Promise.all(taken.map(async (sha256) => ({ sha256, bytes: await this.#bytesOf(sha256) }))),
      ))();
    // Claimed now, before the bytes are read, so an assignment sent meanwhile does not attach them again.
    const sending = result.then(() => undefined);
    sending.catch(() => undefined); // a failure is the caller's (result); here it only un-claims
    for (const sha256 of taken) void this.#track(sent, sha256, sending);
    return result;
  }

  forget(volunteerId: string): void {
    this.#sent.delete(volunteerId);
  }

  #of(volunteerId: string): Map<string, Promise<void>> {
    let sent = this.#sent.get(volunteerId);
    if (sent === undefined) this.#sent.set(volunteerId, (sent = new Map()));
    return sent;
  }

  #track(sent: Map<string, Promise<void>>, sha256: string, promise: Promise<void>): Promise<void> {
    sent.set(sha256, promise);
    promise.catch(() => {
      if (sent.get(sha256) === promise) sent.delete(sha256);
    });
    return promise;
  }
}
