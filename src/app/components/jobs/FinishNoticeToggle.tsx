import { useContext } from "react";
import { useStore } from "zustand";
import { createStore } from "zustand/vanilla";
import type { FinishNoticesState } from "../../../state/jobs/index.ts";
import { JobsStoreContext } from "../../hooks/use-jobs.ts";

// Where there is no notices store (tests), a store that says "unsupported", so the hook order holds.
const NONE = createStore<FinishNoticesState>()(() => ({
  supported: false,
  enabled: false,
  permission: "denied",
  setEnabled: () => Promise.resolve(),
}));

/** "Notify me when my jobs finish": shown where the browser has notifications; asks only when ticked. */
export function FinishNoticeToggle() {
  const notices = useContext(JobsStoreContext)?.notices ?? NONE;
  const supported = useStore(notices, (s) => s.supported);
  const enabled = useStore(notices, (s) => s.enabled);
  const permission = useStore(notices, (s) => s.permission);
  const setEnabled = useStore(notices, (s) => s.setEnabled);
  if (!supported) return null;
  return (
    <label className="inline" data-testid="notify-finish">
      <input type="checkbox" checked={enabled} onChange={(e) => void setEnabled(e.target.checked)} />
      notify me when a job I submitted finishes
      {permission === "denied" && (
        <span className="muted"> (the browser blocks notifications for this page)</span>
      )}
    </label>
  );
}
