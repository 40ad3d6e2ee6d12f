import { Counter, Gauge, type Registry } from "prom-client";

/**
 * Prometheus series whose values are read at scrape time from the server's own counters (the JSON view's
 * snapshot), so /metrics and /api/v1/metrics never disagree and nothing is counted twice.
 */
export type Labels = Record<string, string>;

/** A counter whose value is the snapshot's at scrape time (prom-client counters only go up: reset+inc). */
export function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Array<[Labels, number]>,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

export function mirroredGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Array<[Labels, number]>,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

export const one = (value: number): Array<[Labels, number]> => [[{}, value]];

/** One series per label value of `values` (a fixed set), reading each from `read`. */
export function byLabel<K extends string>(
  label: string,
  values: readonly K[],
  read: (value: K) => number,
): Array<[Labels, number]> {
  return values.map((value) => [{ [label]: value }, read(value)]);
}
