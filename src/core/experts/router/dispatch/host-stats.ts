/**
 * What the router knows about one expert host: counts, an EWMA of the round-trip time per row (queueing
 * included, which is what a requester waits for), recent latencies for p50/p99, and an EWMA of failures.
 * The score a host is chosen by: lower is better.
 */
export type HostFailureKind = "timeout" | "closed" | "error" | "busy" | "malformed" | "canary" | "mismatch";

export interface HostStatsSnapshot {
  readonly requests: number;
  readonly rowsSent: number;
  readonly rowsAccepted: number;
  /** Of rowsAccepted, the rows in finished jobs the router no longer keeps (core.ts keepFinished): past
   *  revision if this host is caught later. */
  readonly rowsPastRevision: number;
  readonly failures: number;
  readonly timeouts: number;
  readonly errors: number;
  readonly busy: number;
  readonly canaryFailures: number;
  readonly replicaMismatches: number;
  readonly lateResults: number;
  readonly consecutiveTimeouts: number;
  readonly ewmaMsPerRow: number | null;
  readonly failureRate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

const LATENCY_WINDOW = 512;

export class HostStats {
  requests = 0;
  rowsSent = 0;
  rowsAccepted = 0;
  rowsPastRevision = 0;
  failures = 0;
  timeouts = 0;
  errors = 0;
  busy = 0;
  canaryFailures = 0;
  replicaMismatches = 0;
  lateResults = 0;
  consecutiveTimeouts = 0;
  ewmaMsPerRow: number | null = null;
  /** EWMA of 1 per failed request, 0 per success. */
  failureRate = 0;
  readonly #latencies: number[] = [];
  #next = 0;

  constructor(
    readonly peerId: string,
    private readonly alpha = 0.2,
  ) {}

  sent(rows: number): void {
    this.requests++;
    this.rowsSent += rows;
  }

  /** `timed` false: a request whose time says nothing about the experts' cost per row (another model, e.g.
   *  the generic job's): it counts as a success, but leaves the latency figures alone. */
  succeeded(rows: number, roundTripMs: number, timed = true): void {
    this.failureRate *= 1 - this.alpha;
    this.consecutiveTimeouts = 0;
    if (!timed) return;
    const perRow = roundTripMs / Math.max(1, rows);
    this.ewmaMsPerRow =
      this.ewmaMsPerRow === null ? perRow : this.ewmaMsPerRow + this.alpha * (perRow - this.ewmaMsPerRow);
    if (this.#latencies.length < LATENCY_WINDOW) this.#latencies.push(roundTripMs);
    else this.#latencies[this.#next] = roundTripMs;
    this.#next = (this.#next + 1) % LATENCY_WINDOW;
  }

  failed(kind: HostFailureKind): void {
    this.failures++;
    this.failureRate += this.alpha * (1 - this.failureRate);
    if (kind === "timeout") {
      this.timeouts++;
      this.consecutiveTimeouts++;
    } else if (kind === "busy") this.busy++;
    else if (kind === "canary") this.canaryFailures++;
    else if (kind === "mismatch") this.replicaMismatches++;
    else this.errors++;
  }

  /** Round-trip ms of recent requests at quantile q (0..1), nearest rank. */
  percentile(q: number): number | null {
    if (this.#latencies.length === 0) return null;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  }

  /** Expected cost of sending this host more work: ms per row, inflated by failures and by what is already
   *  in flight to it. `priorMsPerRow` stands in for a host not measured yet. */
  score(priorMsPerRow: number, inFlight: number): number {
    return (this.ewmaMsPerRow ?? priorMsPerRow) * (1 + 4 * this.failureRate) * (1 + inFlight);
  }

  snapshot(): HostStatsSnapshot {
    return {
      requests: this.requests,
      rowsSent: this.rowsSent,
      rowsAccepted: this.rowsAccepted,
      rowsPastRevision: this.rowsPastRevision,
      failures: this.failures,
      timeouts: this.timeouts,
      errors: this.errors,
      busy: this.busy,
      canaryFailures: this.canaryFailures,
      replicaMismatches: this.replicaMismatches,
      lateResults: this.lateResults,
      consecutiveTimeouts: this.consecutiveTimeouts,
      ewmaMsPerRow: this.ewmaMsPerRow,
      failureRate: this.failureRate,
      p50Ms: this.percentile(0.5),
      p99Ms: this.percentile(0.99),
    };
  }
}
