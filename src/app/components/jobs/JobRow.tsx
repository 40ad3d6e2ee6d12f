import type { KeyboardEvent } from "react";
import type { JobView } from "../../../state/jobs/index.ts";
import { formatResidual, formatTimestamp } from "../../format.ts";
import { StatusBadge } from "../StatusBadge.tsx";

/** One job in the list: clickable and keyboard-selectable. */
export function JobRow({
  job,
  selected,
  onSelect,
}: {
  job: JobView;
  selected: boolean;
  onSelect: () => void;
}) {
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onSelect();
    }
  };
  return (
    <tr
      className="selectable"
      tabIndex={0}
      aria-selected={selected}
      data-testid="job-row"
      data-job-id={job.id}
      data-status={job.status}
      onClick={onSelect}
      onKeyDown={onKeyDown}
    >
      <td>{job.name}</td>
      <td>{job.kind}</td>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td className="num">
        {job.unitsDone} / {job.unitsTotal}
        {job.unitsFailed > 0 && <span className="muted"> ({job.unitsFailed} failed)</span>}
      </td>
      <td className="num" data-testid="job-row-worst">
        {formatResidual(job.worstRelResidual)}
      </td>
      <td>{formatTimestamp(job.createdAtMs)}</td>
    </tr>
  );
}
