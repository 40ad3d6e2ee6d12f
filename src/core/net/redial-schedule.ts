/**
 * When to dial a peer again: right away after a link that was open drops (the peer is probably still
 * there), with exponential backoff after failed dials or handshakes (it may be gone, or hostile).
 */
export class RedialSchedule {
  private readonly entries = new Map<
    string,
    { attempts: number; timer: ReturnType<typeof setTimeout> | null }
  >();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** True while a redial of `peerId` is scheduled (dial it only then). */
  isWaiting(peerId: string): boolean {
    return (this.entries.get(peerId)?.timer ?? null) !== null;
  }

  schedule(peerId: string, afterOpenLink: boolean, dial: () => void): void {
    const previous = this.entries.get(peerId);
    if (previous?.timer) clearTimeout(previous.timer);
    const attempts = afterOpenLink ? 0 : (previous?.attempts ?? 0) + 1;
    const delayMs = afterOpenLink ? 0 : Math.min(this.maxMs, this.baseMs * 2 ** (attempts - 1));
    const entry = { attempts, timer: null as ReturnType<typeof setTimeout> | null };
    entry.timer = setTimeout(() => {
      entry.timer = null;
      dial();
    }, delayMs);
    this.entries.set(peerId, entry);
  }

  /** Forgets the peer's failures (it connected, or left the directory). */
  reset(peerId: string): void {
    const entry = this.entries.get(peerId);
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(peerId);
  }

  clear(): void {
    for (const peerId of [...this.entries.keys()]) this.reset(peerId);
  }
}
