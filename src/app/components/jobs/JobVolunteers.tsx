import type { JobVolunteerView } from "../../../state/jobs/index.ts";
import { formatFlopsPerS, shortPeerId } from "../../format.ts";
import { StatusBadge } from "../StatusBadge.tsx";

/**
 * The volunteers of one job: what each did on THIS job (units held, verified, rejected), then its
 * reputation over every job of this tab, labelled as such so the two are never read as one.
 */
export function JobVolunteers({ volunteers }: { volunteers: readonly JobVolunteerView[] }) {
  if (volunteers.length === 0) return <p className="muted">No volunteer has taken a unit of this job yet.</p>;
  return (
    <div className="table-scroll">
      <table data-testid="job-volunteers">
        <thead>
          <tr>
            <th>Volunteer</th>
            <th className="num" title="units of this job it holds now">
              In flight
            </th>
            <th className="num" title="units of this job whose verified result is its">
              Verified (this job)
            </th>
            <th className="num" title="its results this job rejected">
              Rejected (this job)
            </th>
            <th className="num" title="valid / invalid results over every job of this tab (reputation)">
              Valid / invalid (all jobs)
            </th>
            <th className="num" title="consecutive valid results over every job">
              Streak
            </th>
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
              <td className="num" data-testid="job-volunteer-verified">
                {v.unitsVerified}
              </td>
              <td className="num">{v.resultsRejected}</td>
              <td className="num">
                {v.totalValid} / {v.totalInvalid}
              </td>
              <td className="num">{v.consecutiveValid}</td>
              <td className="num">{formatFlopsPerS(v.speedFlopsPerS)}</td>
              <td>{v.banned && <StatusBadge status="banned" />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
