/**
 * Which peers this side has work with (issue 12, the overlay): a peer is wanted while some holder (a job's
 * requester, an expert router, a caller waiting for a link) holds it, and each link's last use is tracked,
 * so the mesh dials only wanted peers and closes links nobody here wants once they sat unused for a while.
 * Pings do not count as use: they keep a link alive, not needed.
 */
export class LinkDemand {
  private readonly holders = new Map<string, Set<string>>();
  private readonly lastUseMs = new Map<string, number>();

  /** `holder` wants a link to `peerId`; true if nobody wanted it before. */
  want(peerId: string, holder: string): boolean {
    const set = this.holders.get(peerId);
    if (set) {
      set.add(holder);
      return false;
    }
    this.holders.set(peerId, new Set([holder]));
    return true;
  }

  /** `holder` no longer wants `peerId` (or, without a peer id, any peer). */
  release(holder: string, peerId?: string): void {
    const peers = peerId === undefined ? [...this.holders.keys()] : [peerId];
    for (const id of peers) {
      const set = this.holders.get(id);
      if (!set) continue;
      set.delete(holder);
      if (set.size === 0) this.holders.delete(id);
    }
  }

  isWanted(peerId: string): boolean {
    return this.holders.has(peerId);
  }

  /** The link to `peerId` carried a message (either way) or just opened. */
  touch(peerId: string, nowMs: number): void {
    this.lastUseMs.set(peerId, nowMs);
  }

  forget(peerId: string): void {
    this.lastUseMs.delete(peerId);
  }

  /** Of `open`, the peers nobody here wants whose link was unused for `idleMs` or more. */
  idle(open: Iterable<string>, nowMs: number, idleMs: number): string[] {
    const out: string[] = [];
    for (const peerId of open) {
      if (this.holders.has(peerId)) continue;
      const last = this.lastUseMs.get(peerId) ?? Number.NEGATIVE_INFINITY;
      if (nowMs - last >= idleMs) out.push(peerId);
    }
    return out;
  }
}
