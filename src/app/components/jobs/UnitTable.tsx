import type { UnitView, VerificationStatus } from "../../../state/jobs/index.ts";
import { formatResidual, shortPeerId } from "../../format.ts";
import { StatusBadge, type BadgeTone } from "../StatusBadge.tsx";

const VERIFICATION_TONES: Readonly<Record<VerificationStatus, BadgeTone>> = {
  verified: "ok",
  rejected: "bad",
  pending: "warn",
  none: "neutral",
};

/** The work units of one job: who computes each, how far along, and whether its result was certified. */
export function UnitTable({ units }: { units: readonly UnitView[] }) {
  if (units.length === 0) return <p className="muted">No work units yet.</p>;
  return (
    <div className="table-scroll">
      <table data-testid="unit-table">
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Status</th>
            <th className="num">Attempt</th>
            <th>Volunteer</th>
            <th>Progress</th>
            <th
              className="num"
              title="the final iteration once the result is verified; while running, the last progress report's"
            >
              Iteration
            </th>
            <th
              className="num"
              title="the volunteer's own residual: its result's once verified; while running, the last progress report's"
            >
              Volunteer&apos;s residual
            </th>
            <th>Verification</th>
            <th className="num" title="‖b − Ax‖/‖b‖ recomputed by this tab in f64">
              Certified
            </th>
            <th>Backend</th>
          </tr>
        </thead>
        <tbody>
          {units.map((unit) => (
            <tr
              key={unit.id}
              data-testid="unit-row"
              data-unit-index={unit.index}
              data-status={unit.status}
              data-verification={unit.verification}
            >
              <td className="num">{unit.index}</td>
              <td>
                <StatusBadge status={unit.status} />
              </td>
              <td className="num" title={`${unit.attemptsUsed} attempt(s) charged`}>
                {unit.attempt}
              </td>
              <td className="mono" title={unit.volunteerId ?? undefined}>
                {unit.volunteerId === null ? "—" : shortPeerId(unit.volunteerId)}
              </td>
              <td>
                <progress value={unit.progress} max={1} aria-label={`unit ${unit.index} progress`} />
              </td>
              <td className="num" data-testid="unit-iteration" data-reported={unit.reported ?? "none"}>
                {unit.iteration ?? "—"}
                {unit.reported === "progress" && <ProgressMark />}
              </td>
              <td className="num" data-testid="unit-reported-residual">
                {formatResidual(unit.residual)}
                {unit.reported === "progress" && <ProgressMark />}
              </td>
              <td>
                <StatusBadge status={unit.verification} tone={VERIFICATION_TONES[unit.verification]} />
              </td>
              <td className="num" data-testid="unit-certified">
                {formatResidual(unit.relResidual)}
              </td>
              <td>{unit.backend ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Marks a number from a progress report: where the unit is now, not where it ended. */
function ProgressMark() {
  return (
    <span className="muted" title="last progress report, still running">
      {" "}
      so far
    </span>
  );
}
