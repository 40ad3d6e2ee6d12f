import type { RouterHostSnapshot } from "../../../core/experts/router/index.ts";
import { useSwarm } from "../../hooks/use-swarm.ts";
import { StatusBadge } from "../StatusBadge.tsx";
import { sourceLabel } from "./source-label.ts";
import { useExperts } from "../../hooks/use-experts.ts";

const ms = (v: number | null): string => (v === null ? "–" : v < 10 ? v.toFixed(1) : v.toFixed(0));

/** The router's view of every expert host: speed, reliability and what verification caught. */
export function RouterHostTable() {
  const router = useExperts((s) => s.router);
  const selfId = useSwarm((s) => s.self?.peerId ?? null);
  if (!router) {
    return (
      <p className="muted" data-testid="router-hosts-empty">
        The router starts with the first classify job; its hosts appear here.
      </p>
    );
  }
  const t = router.totals;
  return (
    <div>
      <div className="table-scroll">
        <table data-testid="router-hosts">
          <thead>
            <tr>
              <th>volunteer</th>
              <th>state</th>
              <th>experts</th>
              <th className="num">requests</th>
              <th className="num">rows</th>
              <th className="num">share</th>
              <th className="num" title="round trip of a request, median">
                p50 ms
              </th>
              <th className="num" title="round trip of a request, 99th percentile">
                p99 ms
              </th>
              <th className="num">failures</th>
              <th className="num">timeouts</th>
              <th className="num" title="answers to canary rows (known outputs) that were wrong">
                canary ✗
              </th>
              <th className="num" title="replicated batches whose outputs disagreed">
                mismatch
              </th>
            </tr>
          </thead>
          <tbody>
            {router.hosts.map((h) => (
              <tr
                key={h.peerId}
                data-testid="router-host-row"
                data-peer-id={h.peerId}
                data-banned={h.banned !== null}
              >
                <td className="mono" title={h.peerId}>
                  {sourceLabel(h.peerId, selfId)} <span className="muted">{h.provider}</span>
                </td>
                <td>
                  <HostState host={h} />
                </td>
                <td title={`placed: ${h.placed.join(", ") || "none"}`}>{h.ready.join(", ") || "–"}</td>
                <td className="num">{h.requests}</td>
                <td className="num" data-testid="router-host-rows">
                  {h.rowsAccepted}
                  {h.banned !== null && h.rowsPastRevision > 0 && (
                    <span
                      className="muted"
                      title={`rows this host gave jobs older than the last ${router.revisableJobs}: they were delivered before it was caught, and are no longer kept to be recomputed`}
                    >
                      {" "}
                      ({h.rowsPastRevision} past revision)
                    </span>
                  )}
                </td>
                <td className="num">{Math.round(h.share * 100)} %</td>
                <td className="num">{ms(h.p50Ms)}</td>
                <td className="num">{ms(h.p99Ms)}</td>
                <td className="num">{h.failures}</td>
                <td className="num">{h.timeouts}</td>
                <td className="num" data-testid="router-host-canary-failures">
                  {h.canaryFailures}
                </td>
                <td className="num">{h.replicaMismatches}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted" data-testid="router-totals">
        {t.rowsClassified} images in {t.jobs} job{t.jobs === 1 ? "" : "s"} · expert rows: {t.remoteRows} by
        volunteers, {t.localRows} here ({t.canaryRows} canaries, {t.fallbackRows} fallback,{" "}
        {t.arbitrationRows} arbitration) · {t.replicatedBatches} batches replicated · {t.retries} retries ·{" "}
        {t.liarsCaught} hosts caught
      </p>
    </div>
  );
}

function HostState({ host }: { host: RouterHostSnapshot }) {
  if (host.banned !== null) {
    return (
      <span title={host.banned} data-testid="router-host-banned">
        <StatusBadge status="banned" /> <span className="muted">{host.banned}</span>
      </span>
    );
  }
  if (!host.connected) return <StatusBadge status="disconnected" tone="bad" />;
  if (host.paused) return <StatusBadge status="paused" />;
  if (host.suspended) return <StatusBadge status="suspended" tone="warn" />;
  return host.trusted ? <StatusBadge status="trusted" tone="ok" /> : <StatusBadge status="new" tone="info" />;
}
