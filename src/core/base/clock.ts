/**
 * The real clock behind every injected `nowMs` that defaults to it: milliseconds since the Unix epoch, read
 * from the monotonic high-resolution timer. The difference of two reads is exactly performance.now()'s
 * (sub-millisecond, never going back), and a read can still be kept as a date (a reputation record stores
 * when a host was last caught). Tests inject their own clock instead.
 */
export type NowMs = () => number;

export const realNowMs: NowMs = () => performance.timeOrigin + performance.now();
