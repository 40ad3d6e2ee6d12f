import type { JobRevision } from "../../../state/experts/index.ts";

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
