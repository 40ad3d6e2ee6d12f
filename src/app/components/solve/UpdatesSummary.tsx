import type { SolveJobUpdates } from "../../../../workers/solver/api.ts";

/** The "Updates" rows of the solve summary: what was applied and what the warm start saved. */
export function UpdatesSummary({ updates: u }: { updates: SolveJobUpdates }) {
  const start =
    u.warmStartResidual === null ? "" : `, warm start at residual ${u.warmStartResidual.toExponential(2)}`;
  return (
    <>
      <dt>Updates</dt>
      <dd data-testid="solve-updates">
        {u.applied} applied{u.rejected > 0 ? `, ${u.rejected} rejected` : ""}; {u.iterationsWarm} iterations
        on the updated system{start}
      </dd>
      <dt>Iterations saved</dt>
      <dd data-testid="solve-saved" data-saved={u.saved ?? ""} data-cold={u.iterationsCold ?? ""}>
        {u.saved === null
          ? `not measured${u.note ? ` (${u.note})` : " (no cold solve asked)"}; a cold start begins at residual 1`
          : `${u.saved} (cold solve of the updated system: ${u.iterationsCold} iterations, warm: ${u.iterationsWarm})` +
            (u.note ? `; ${u.note}` : "")}
      </dd>
    </>
  );
}
