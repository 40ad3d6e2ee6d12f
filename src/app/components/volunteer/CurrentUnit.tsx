import type { VolunteerState } from "../../../state/jobs/index.ts";
import { formatResidual, shortPeerId } from "../../format.ts";

/** The unit this tab computes for someone else, live: rows of the Volunteering card's key-value list. */
export function CurrentUnit({ current }: { current: NonNullable<VolunteerState["current"]> }) {
  return (
    <>
      <dt>Unit</dt>
      <dd className="mono" data-testid="volunteer-unit">
        {current.unitId}
      </dd>
      <dt>Requester</dt>
      <dd className="mono" title={current.requesterId} data-testid="volunteer-requester">
        {shortPeerId(current.requesterId)}
      </dd>
      <dt>Iteration</dt>
      <dd>{current.iteration ?? "—"}</dd>
      <dt>Residual</dt>
      <dd>{formatResidual(current.residual)}</dd>
      <dt>Backend</dt>
      <dd data-testid="volunteer-backend">{current.backend ?? "choosing…"}</dd>
    </>
  );
}
