import type { SolveJob } from "../core/jobs/model.ts";
import type { NodeRequester } from "../node/requester.ts";

/**
 * The progress line of `open-swarm submit`. Units: how many are verified of all, and volunteers linked.
 * A distributed solve: the coordinator's iteration and global residual, and its row blocks placed (and on
 * how many volunteers), since its blocks are verified together at the end.
 */
export function submitProgressLine(requester: NodeRequester, job: SolveJob): string {
  const units = requester.runtime.units(job.id);
  const linked = requester.volunteerCount();
  if (job.kind !== "distributed-solve") {
    const done = units.filter((u) => u.status === "done").length;
    return `units verified ${done}/${units.length}  volunteers ${linked}`;
  }
  const leased = units.filter((u) => u.status === "leased" && u.lease !== null);
  const holders = new Set(leased.map((u) => u.lease!.volunteerId));
  let progress: { iteration: number; relResidual: number | null } | null = null;
  for (const unit of leased) progress ??= requester.runtime.progressOf(unit.id);
  const iteration =
    progress === null
      ? "iteration -"
      : `iteration ${progress.iteration}  residual ${progress.relResidual?.toExponential(2) ?? "-"}`;
  const resumed = requester.runtime.distributedCheckpoint(job.id).resumedFrom ?? 0;
  const from = resumed > 0 ? ` (resumed from ${resumed})` : "";
  const blocks = `blocks ${leased.length}/${units.length} on ${holders.size} volunteer(s)`;
  return `${iteration}${from}  ${blocks}  linked ${linked}`;
}
