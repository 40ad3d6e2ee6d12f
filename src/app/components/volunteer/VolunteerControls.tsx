import { useVolunteer } from "../../hooks/use-jobs.ts";

/** Pause/resume, CPU share (a duty cycle of one core) and pausing while the tab is hidden. */
export function VolunteerControls() {
  const paused = useVolunteer((s) => s.status === "paused");
  const cpuShare = useVolunteer((s) => s.cpuShare);
  const pauseWhenHidden = useVolunteer((s) => s.pauseWhenHidden);
  const actions = useVolunteer((s) => s.actions);
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
      <label className="inline">
        <input
          type="checkbox"
          checked={pauseWhenHidden}
          data-testid="volunteer-pause-hidden"
          onChange={(e) => actions.setPauseWhenHidden(e.target.checked)}
        />
        pause while this tab is hidden
      </label>
    </div>
  );
}
