export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** Peer ids are 34 characters; the first 10 tell them apart in a list. */
export function shortPeerId(peerId: string): string {
  return peerId.length > 12 ? `${peerId.slice(0, 10)}…` : peerId;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A relative residual in the tables: 3 significant digits, "—" when there is none yet. */
export function formatResidual(value: number | null): string {
  return value === null ? "—" : value.toExponential(2);
}

/** Measured throughput in the unit people read for sparse kernels. */
export function formatFlopsPerS(flopsPerS: number | null): string {
  if (flopsPerS === null) return "—";
  if (flopsPerS >= 1e9) return `${(flopsPerS / 1e9).toFixed(2)} GFLOP/s`;
  return `${(flopsPerS / 1e6).toFixed(0)} MFLOP/s`;
}

/** Time of day for today's events, date and time for older ones. */
export function formatTimestamp(ms: number, nowMs: number = Date.now()): string {
  const at = new Date(ms);
  const sameDay = new Date(nowMs).toDateString() === at.toDateString();
  return sameDay ? at.toLocaleTimeString() : at.toLocaleString();
}
