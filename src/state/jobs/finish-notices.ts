import { createStore, type StoreApi } from "zustand/vanilla";
import type { JobView } from "./types.ts";

/**
 * "Tell me when my job finishes": a browser notification (Notifications API) when a job this tab submitted
 * leaves "running", opt-in. Permission is asked only when the person ticks the box, never on load; the
 * choice is kept in localStorage. Only jobs seen running in this session notify (not old ones at a reload).
 */
export interface FinishNoticesState {
  /** The browser has the Notifications API (the checkbox is shown only then). */
  supported: boolean;
  enabled: boolean;
  /** "denied": the browser refused; the box unticks and says so. */
  permission: "default" | "granted" | "denied";
  setEnabled(value: boolean): Promise<void>;
}

export type FinishNoticesStore = StoreApi<FinishNoticesState> & {
  /** Give it every new list of jobs: it notifies those that just left "running". */
  observe(jobs: readonly JobView[]): void;
};

const STORAGE_KEY = "open-swarm.notify-job-finished";

export interface NotificationApi {
  readonly permission: "default" | "granted" | "denied";
  requestPermission(): Promise<"default" | "granted" | "denied">;
  show(title: string, body: string): void;
}

/** The window's Notifications API, or null where there is none. */
export function browserNotifications(win: Window): NotificationApi | null {
  const N = (win as Window & { Notification?: typeof Notification }).Notification;
  if (typeof N !== "function") return null;
  return {
    get permission() {
      return N.permission;
    },
    requestPermission: () => N.requestPermission(),
    show: (title, body) => void new N(title, { body, tag: title }),
  };
}

export function createFinishNotices(
  api: NotificationApi | null,
  storage: Storage | null,
): FinishNoticesStore {
  const running = new Set<string>();
  const stored = storage?.getItem(STORAGE_KEY) === "1";
  const store = createStore<FinishNoticesState>()((set) => ({
    supported: api !== null,
    enabled: api !== null && stored && api.permission === "granted",
    permission: api?.permission ?? "denied",
    async setEnabled(value) {
      if (api === null) return;
      let permission = api.permission;
      if (value && permission !== "granted") permission = await api.requestPermission();
      const enabled = value && permission === "granted";
      storage?.setItem(STORAGE_KEY, enabled ? "1" : "0");
      set({ enabled, permission });
    },
  }));
  return Object.assign(store, {
    observe(jobs: readonly JobView[]) {
      for (const job of jobs) {
        if (job.status === "running") {
          running.add(job.id);
          continue;
        }
        if (!running.delete(job.id) || !store.getState().enabled || api === null) continue;
        const how =
          job.status === "done"
            ? `done: ${job.unitsDone} of ${job.unitsTotal} units verified`
            : `${job.status}${job.error ? `: ${job.error}` : ""}`;
        api.show(`Open-Swarm job “${job.name}” finished`, how);
      }
    },
  });
}
