import { shortPeerId } from "../../format.ts";
import { useVolunteer } from "../../hooks/use-jobs.ts";
import { StatusBadge } from "../StatusBadge.tsx";
import { CurrentUnit } from "./CurrentUnit.tsx";
import { VolunteerControls } from "./VolunteerControls.tsx";
import { UnitLog } from "./UnitLog.tsx";

const PAUSE_WHY = {
  user: "",
  hidden: " while this tab is hidden",
  battery: " while on battery",
} as const;

/** What this tab does for the swarm: the unit it computes, what it has done, and how much it may use. */
export function VolunteeringCard() {
  const status = useVolunteer((s) => s.status);
  const current = useVolunteer((s) => s.current);
  const unitsDone = useVolunteer((s) => s.unitsDone);
  const requestersServed = useVolunteer((s) => s.requestersServed);
  const pauseReason = useVolunteer((s) => s.pauseReason);

  return (
    <section className="card" data-testid="volunteering">
      <h2>
        Volunteering ·{" "}
        <span data-testid="volunteer-status" data-status={status}>
          <StatusBadge status={status} />
        </span>
      </h2>
      {current ? (
        <progress
          value={current.progress}
          max={1}
          aria-label="unit progress"
          data-testid="volunteer-progress"
          style={{ marginBottom: 8 }}
        />
      ) : (
        <p className="muted" data-testid="volunteer-waiting">
          {status === "paused"
            ? `Paused${PAUSE_WHY[pauseReason ?? "user"]}: no unit will be started or continued.`
            : "Waiting for a work unit…"}
        </p>
      )}
      <dl className="kv">
        {current && <CurrentUnit current={current} />}
        <dt>Units done</dt>
        <dd data-testid="volunteer-units-done">{unitsDone}</dd>
        <dt>Requesters served</dt>
        <dd title={requestersServed.join("\n")}>
          {requestersServed.length}
          {requestersServed.length > 0 && (
            <span className="muted mono">
              {" "}
              ({requestersServed.slice(-3).map(shortPeerId).join(", ")}
              {requestersServed.length > 3 ? ", …" : ""})
            </span>
          )}
        </dd>
      </dl>
      <VolunteerControls />
      <UnitLog />
    </section>
  );
}
