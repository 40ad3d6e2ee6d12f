import type { JobRevision } from "../../../state/experts/index.ts";
import { useExperts } from "../../hooks/use-experts.ts";

/** A finished job whose hosts were caught lying afterwards: what they delivered was recomputed in this tab,
 *  and the results shown are the corrected ones. */
export function RevisedNotice({ revised }: { revised: JobRevision | null }) {
  if (!revised) return null;
  const hosts = revised.bannedHosts.map((h) => h.slice(0, 10)).join(", ");
  return (
    <p
      className="error"
      role="status"
      data-testid="job-revised"
      data-rows={revised.rowsRecomputed}
      data-hosts={revised.bannedHosts.join(",")}
    >
      Revised after this job finished: {revised.bannedHosts.length === 1 ? "volunteer" : "volunteers"} {hosts}{" "}
      {revised.bannedHosts.length === 1 ? "was" : "were"} caught returning wrong outputs and banned;{" "}
      {revised.rowsRecomputed} of the rows they computed or vouched for were recomputed in this tab. The
      results shown are the corrected ones.
    </p>
  );
}

/** Earlier classify jobs (not the one shown) corrected after a ban: which, and their corrected accuracy. */
export function RevisedJobs({ shownId }: { shownId: number | null }) {
  const revised = useExperts((s) => s.revisedJobs).filter((j) => j.id !== shownId);
  if (revised.length === 0) return null;
  return (
    <ul className="error" role="status" data-testid="revised-jobs">
      {revised.map((j) => (
        <li key={j.id} data-testid="revised-job" data-job-id={j.id} data-rows={j.rowsRecomputed}>
          An earlier job ({j.description}) was revised: {j.bannedHosts.map((h) => h.slice(0, 10)).join(", ")}{" "}
          banned since, {j.rowsRecomputed} rows recomputed in this tab
          {j.accuracy !== null && `; corrected accuracy ${(j.accuracy * 100).toFixed(1)} %`}.
        </li>
      ))}
    </ul>
  );
}
