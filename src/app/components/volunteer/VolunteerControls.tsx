import { useVolunteer } from "../../hooks/use-jobs.ts";

/**
 * Pause/resume, CPU share (a duty cycle of one core) with the share actually used beside it, pausing while
 * the tab is hidden, and "only on AC power" where the browser can tell (Battery Status API).
 */
export function VolunteerControls() {
  const paused = useVolunteer((s) => s.status === "paused");
  const cpuShare = useVolunteer((s) => s.cpuShare);
  const pauseWhenHidden = useVolunteer((s) => s.pauseWhenHidden);
  const actions = useVolunteer((s) => s.actions);
  const busyFraction = useVolunteer((s) => s.busyFraction);
  const batterySupported = useVolunteer((s) => s.batterySupported);
  const pauseOnBattery = useVolunteer((s) => s.pauseOnBattery);
  const percent = Math.round(cpuShare * 100);

  return (
    <div className="row" style={{ marginTop: 12, alignItems: "center" }}>
      <button
        type="button"
        className={paused ? "primary" : undefined}
        data-testid="volunteer-pause"
        aria-pressed={paused}
        onClick={() => (paused ? actions.resume() : actions.pause())}
      >
        {paused ? "Resume" : "Pause"}
      </button>
      <label className="inline">
        CPU share
        <input
          type="range"
          min={10}
          max={100}
          step={5}
          value={percent}
          aria-label="CPU share"
          data-testid="volunteer-cpu-share"
          onChange={(e) => actions.setCpuShare(Number(e.target.value) / 100)}
        />
        <span style={{ minWidth: 40 }}>{percent} %</span>
      </label>
      <span
        className="muted"
        title="Time this tab's volunteer spent computing over the last minute, divided by the wall time"
        data-testid="volunteer-cpu-used"
        data-fraction={busyFraction.toFixed(3)}
      >
        used: {Math.round(busyFraction * 100)} % of a core (last minute)
      </span>
      <label className="inline">
        <input
          type="checkbox"
          checked={pauseWhenHidden}
          data-testid="volunteer-pause-hidden"
          onChange={(e) => actions.setPauseWhenHidden(e.target.checked)}
        />
        pause while this tab is hidden
      </label>
      {batterySupported && (
        <label className="inline">
          <input
            type="checkbox"
            checked={pauseOnBattery}
            data-testid="volunteer-ac-only"
            onChange={(e) => actions.setPauseOnBattery(e.target.checked)}
          />
          only on AC power
        </label>
      )}
    </div>
  );
}
