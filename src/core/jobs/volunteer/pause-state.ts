import type { VolunteerSnapshot } from "./snapshot.ts";

/** Whether the page says the tab is hidden (injected, so the volunteer runtime needs no DOM). */
export interface VisibilitySource {
  hidden(): boolean;
  onChange(listener: () => void): () => void;
}

/**
 * The person's controls over their volunteer, and why it is paused: their Pause first, then "pause while
 * hidden" (when the tab is hidden), then "only on AC power" (when the page says the machine is on battery).
 * Only the state; the runtime acts on a change (gives units back, or resumes).
 */
export class PauseState {
  userPaused = false;
  pauseWhenHidden = false;
  pauseOnBattery = false;
  onBattery = false;

  constructor(private readonly visibility: VisibilitySource | null) {}

  reason(): VolunteerSnapshot["pauseReason"] {
    if (this.userPaused) return "user";
    if (this.pauseWhenHidden && this.visibility?.hidden() === true) return "hidden";
    if (this.pauseOnBattery && this.onBattery) return "battery";
    return null;
  }
}
