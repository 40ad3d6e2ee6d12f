import type { VolunteerStatsView } from "../../../state/jobs/index.ts";
import { formatFlopsPerS, shortPeerId } from "../../format.ts";
import { StatusBadge } from "../StatusBadge.tsx";

/** Volunteers as the requester sees them: load, results, reputation and measured speed. */
export function JobVolunteers({ volunteers }: { volunteers: readonly VolunteerStatsView[] }) {
  if (volunteers.length === 0) return <p className="muted">No volunteer has taken a unit of this job yet.</p>;
  return (
    <table data-testid="job-volunteers">
      <thead>
        <tr>
          <th>Volunteer</th>
          <th className="num">In flight</th>
          <th className="num">Done</th>
          <th className="num">Valid / invalid</th>
          <th className="num">Streak</th>
          <th className="num">Speed</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {volunteers.map((v) => (
          <tr key={v.peerId} data-testid="job-volunteer-row" data-peer-id={v.peerId} data-banned={v.banned}>
            <td className="mono" title={v.peerId}>
              {shortPeerId(v.peerId)}
            </td>
            <td className="num">{v.unitsInFlight}</td>
            <td className="num">{v.unitsDone}</td>
            <td className="num">
              {v.totalValid} / {v.totalInvalid}
            </td>
            <td className="num" title="consecutive valid results">
              {v.consecutiveValid}
            </td>
            <td className="num">{formatFlopsPerS(v.speedFlopsPerS)}</td>
            <td>{v.banned && <StatusBadge status="banned" />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
