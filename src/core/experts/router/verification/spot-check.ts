import { isTrusted, type ReputationBook } from "../../../trust/reputation.ts";

/**
 * When an expert host's answer is checked in full (besides its canaries), after BOINC's adaptive replication
 * (trust/reputation.ts) with one change: a trusted host is never left unchecked. Untrusted (fewer than
 * trustAfter consecutive valid answers): every answer. Trusted: with probability 1/consecutiveValid, but
 * never below `floor`, so a host that behaves until it is trusted and then lies now and then is still drawn
 * for a full check at a steady rate (on top of the canaries every request carries), for as long as it serves.
 */
export function checkProbability(book: ReputationBook, peerId: string, floor: number): number {
  const rec = book.get(peerId);
  if (!isTrusted(rec, book.policy)) return 1;
  return Math.max(floor, 1 / rec.consecutiveValid);
}

/** Whether this host may check another's answer: only a trusted one (two untrusted hosts never validate each
 *  other: a pair of fresh identities returning the same lie would). */
export function mayCheck(book: ReputationBook, peerId: string): boolean {
  return isTrusted(book.get(peerId), book.policy);
}
