/**
 * A bounded, newest-first log of work done here for requesters, whose "sent" entries a requester's later
 * verdict may relabel (the volunteer's unit log, the expert host's batch log). The verdict is display only:
 * it is taken only from the requester the entry came from, for an entry still "sent"; any other is counted.
 */
export class VerdictLog<E extends { readonly requesterId: string; readonly outcome: string }> {
  readonly #limit: number;
  #entries: E[] = [];
  /** Verdicts that matched no entry of the sender (unknown work, other requester, already judged). */
  verdictsIgnored = 0;

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Newest first; a new array after each change (views compare by identity). */
  get entries(): readonly E[] {
    return this.#entries;
  }

  add(entry: E): void {
    this.#entries = [entry, ...this.#entries.slice(0, this.#limit - 1)];
  }

  /** Sets `outcome` on the "sent" entry of requester `from` that `matches`; whether there was one. */
  protected judge(from: string, matches: (entry: E) => boolean, outcome: E["outcome"]): boolean {
    const i = this.#entries.findIndex((e) => e.requesterId === from && e.outcome === "sent" && matches(e));
    if (i < 0) {
      this.verdictsIgnored++;
      return false;
    }
    const next = [...this.#entries];
    next[i] = { ...next[i]!, outcome };
    this.#entries = next;
    return true;
  }
}
