import { useMemo } from "react";
import type { HostBatchEntry } from "../../../core/experts/host/index.ts";
import { workLogRows } from "../../../state/experts/index.ts";
import { formatDuration, formatTimestamp, shortPeerId } from "../../format.ts";
import { useExperts, useHasExperts } from "../../hooks/use-experts.ts";
import { useVolunteer } from "../../hooks/use-jobs.ts";

/** The bound of each log (the volunteer's and the expert host's keep their last 100). */
const LOG_LIMIT = 100;
const NO_BATCHES: readonly HostBatchEntry[] = [];

/** "job-id-pre…/3": the job's first characters and the unit's index; an expert batch's request id cut short. */
function shortUnitId(unitId: string): string {
  const slash = unitId.lastIndexOf("/");
  if (slash < 0) return unitId.length > 12 ? `${unitId.slice(0, 12)}…` : unitId;
  const job = unitId.slice(0, slash);
  return `${job.length > 8 ? `${job.slice(0, 8)}…` : job}${unitId.slice(slash)}`;
}

/** The work this tab computed for others, newest first: solve units, distributed blocks, expert batches. */
export function UnitLog() {
  // The experts store exists once experts booted (a context: fixed for the component's life).
  return useHasExperts() ? <WithExpertBatches /> : <LogTable batches={NO_BATCHES} />;
}

function WithExpertBatches() {
  const batches = useExperts((s) => s.host?.log ?? NO_BATCHES);
  return <LogTable batches={batches} />;
}

function LogTable({ batches }: { batches: readonly HostBatchEntry[] }) {
  const units = useVolunteer((s) => s.log);
  const log = useMemo(() => workLogRows(units, batches), [units, batches]);
  const bounded = units.length >= LOG_LIMIT || batches.length >= LOG_LIMIT;
  return (
    <div style={{ marginTop: 12 }} data-testid="unit-log">
      <h3>
        Units computed in this tab ({log.length}
        {bounded ? `, the last ${LOG_LIMIT} of each kind` : ""})
      </h3>
      {log.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Time</th>
                <th>Requester</th>
                <th>Kind</th>
                <th>Unit</th>
                <th>Rows</th>
                <th>Time spent</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {log.map((e) => (
                <tr
                  key={e.key}
                  data-testid="unit-log-row"
                  data-kind={e.kind}
                  data-outcome={e.outcome}
                  data-unit={e.unit}
                  data-rows={e.rows ?? undefined}
                >
                  <td>{formatTimestamp(e.atMs)}</td>
                  <td className="mono" title={e.requesterId}>
                    {shortPeerId(e.requesterId)}
                  </td>
                  <td>{e.kindLabel}</td>
                  <td className="mono" title={e.unit}>
                    {shortUnitId(e.unit)}
                  </td>
                  <td>{e.rows ?? "—"}</td>
                  <td>{formatDuration(e.ms)}</td>
                  <td>{e.outcomeLabel}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
