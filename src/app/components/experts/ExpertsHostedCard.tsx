import { formatBytes } from "../../format.ts";
import { StatusBadge } from "../StatusBadge.tsx";
import { useExperts } from "../../hooks/use-experts.ts";

/** The volunteer side: which models this tab hosts for requesters and what it has served. */
export function ExpertsHostedCard() {
  const host = useExperts((s) => s.host);
  const names = useExperts((s) => s.hostedNames);
  const expertBytes = useExperts((s) => s.manifest.expertBytes);
  const hostAnyModel = useExperts((s) => s.hostAnyModel);
  const setHostAnyModel = useExperts((s) => s.actions.setHostAnyModel);
  if (!host) {
    return (
      <section className="card" data-testid="experts-hosted">
        <h2>Experts hosted</h2>
        <p className="muted">Starting…</p>
      </section>
    );
  }
  const status = host.closed
    ? "closed"
    : host.paused
      ? "paused"
      : host.hosted.length > 0
        ? "hosting"
        : "idle";
  const errors = Object.entries(host.errorsSent).filter(([, n]) => (n ?? 0) > 0);
  const loadRefusals = Object.entries(host.loadFailuresByCode).filter(([, n]) => (n ?? 0) > 0);
  return (
    <section className="card" data-testid="experts-hosted" data-status={status}>
      <h2>
        Experts hosted ·{" "}
        {status === "hosting" ? <StatusBadge status={status} tone="info" /> : <StatusBadge status={status} />}
      </h2>
      {host.hosted.length === 0 ? (
        <p className="muted" data-testid="experts-hosted-none">
          {host.paused
            ? "Paused with volunteering: requests are answered “paused” and go elsewhere."
            : "No requester has asked this tab to host a model yet."}
        </p>
      ) : (
        <ul className="chips" data-testid="experts-hosted-models">
          {host.hosted
            .map((sha) => ({ sha, name: names[sha] ?? sha.slice(0, 10) }))
            .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
            .map(({ sha, name }) => (
              <li key={sha} className="mono" title={sha}>
                {name}
              </li>
            ))}
        </ul>
      )}
      <dl className="kv">
        <dt>Requesters</dt>
        <dd data-testid="experts-hosted-requesters">{host.requesters}</dd>
        <dt>Batches served</dt>
        <dd data-testid="experts-hosted-batches">{host.batchesServed}</dd>
        <dt>Rows served</dt>
        <dd data-testid="experts-hosted-rows">{host.rowsServed}</dd>
        <dt>Busy</dt>
        <dd>
          {host.busyMs < 1000 ? `${host.busyMs.toFixed(0)} ms` : `${(host.busyMs / 1000).toFixed(1)} s`} in
          the model
          {host.rowsServed > 0 && ` (${(host.busyMs / host.rowsServed).toFixed(2)} ms per row)`}
        </dd>
        <dt>Queue</dt>
        <dd>
          {host.queuedRequests} requests · {host.queuedRows} rows
        </dd>
        {expertBytes > 0 && (
          <>
            <dt>Model size</dt>
            <dd>{formatBytes(expertBytes)} per int8 expert (downloaded once, cached)</dd>
          </>
        )}
        {errors.length > 0 && (
          <>
            <dt>Refused</dt>
            <dd data-testid="experts-hosted-refused">
              {errors.map(([code, n]) => `${n} ${code}`).join(" · ")}
            </dd>
          </>
        )}
        {loadRefusals.length > 0 && (
          <>
            <dt>Models not hosted</dt>
            <dd data-testid="experts-hosted-load-refused">
              {loadRefusals.map(([code, n]) => `${n} ${code}`).join(" · ")}
            </dd>
          </>
        )}
      </dl>
      <label className="inline" data-testid="experts-host-any-model-label">
        <input
          type="checkbox"
          data-testid="experts-host-any-model"
          checked={hostAnyModel}
          onChange={(event) => setHostAnyModel(event.target.checked)}
        />
        also host models that are not this site&rsquo;s (any requester&rsquo;s ONNX)
      </label>
      <p className="muted">
        Off by default: this tab then runs only the site&rsquo;s own models. When on, each other model is
        checked for size before it loads (refused over a memory budget) and runs in a worker of its own with
        time limits.
      </p>
      <p className="muted" style={{ marginBottom: 0 }}>
        The Pause button under Volunteering pauses hosting too.
      </p>
    </section>
  );
}
