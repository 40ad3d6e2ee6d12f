import type { UnitLogEntry, UnitLogOutcome } from "../../../core/jobs/volunteer/index.ts";
import { formatDuration, formatTimestamp, shortPeerId } from "../../format.ts";
import { useVolunteer } from "../../hooks/use-jobs.ts";

const KIND_LABEL: Record<UnitLogEntry["kind"], string> = {
  solve: "solve unit",
  block: "distributed block",
};

/** What each outcome means to the person; "verified" etc. are the requester's word (display only). */
const OUTCOME_LABEL: Record<UnitLogOutcome, string> = {
  sent: "sent (no verdict yet)",
  verified: "verified",
  rejected: "rejected by the requester",
  not_converged: "did not converge",
  failed: "failed",
  cancelled: "cancelled",
  ended: "ended",
};

/** "job-id-pre…/3": the job's first characters and the unit's index. */
function shortUnitId(unitId: string): string {
  const slash = unitId.lastIndexOf("/");
  const job = unitId.slice(0, slash);
  return `${job.length > 8 ? `${job.slice(0, 8)}…` : job}${unitId.slice(slash)}`;
}

/** The units this tab computed for others, newest first (the runtime keeps the last 100). */
export function UnitLog() {
  const log = useVolunteer((s) => s.log);
  return (
    <div style={{ marginTop: 12 }} data-testid="unit-log">
      <h3>
        Units computed in this tab ({log.length}
        {log.length >= 100 ? ", the last 100" : ""})
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
                <th>Time spent</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {log.map((e) => (
                <tr
                  key={`${e.unitId}#${e.attempt}#${e.atMs}`}
                  data-testid="unit-log-row"
                  data-outcome={e.outcome}
                  data-unit={e.unitId}
                >
                  <td>{formatTimestamp(e.atMs)}</td>
                  <td className="mono" title={e.requesterId}>
                    {shortPeerId(e.requesterId)}
                  </td>
                  <td>{KIND_LABEL[e.kind]}</td>
                  <td className="mono" title={e.unitId}>
                    {shortUnitId(e.unitId)}
                  </td>
                  <td>{formatDuration(e.ms)}</td>
                  <td>{OUTCOME_LABEL[e.outcome]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
