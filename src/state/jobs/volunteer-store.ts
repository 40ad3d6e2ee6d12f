import { createStore, type StoreApi } from "zustand/vanilla";
import type { VolunteerRuntime, VolunteerSnapshot } from "../../core/jobs/volunteer/index.ts";
import type { VolunteerState } from "./types.ts";

export type VolunteerStore = StoreApi<VolunteerState> & {
  /** Connects the store to the tab's volunteer runtime (settings made before carry over). */
  attach(runtime: VolunteerRuntime): void;
  /** The runtime reports a change. */
  update(snapshot: VolunteerSnapshot): void;
  /** The page found the Battery Status API (shows "only on AC power"). */
  setBatterySupported(value: boolean): void;
};

/** The Contribute view's state: what this tab computes for the swarm, and the person's controls over it. */
export function createVolunteerStore(): VolunteerStore {
  let runtime: VolunteerRuntime | null = null;
  const store = createStore<VolunteerState>()((set) => ({
    status: "idle",
    current: null,
    unitsDone: 0,
    requestersServed: [],
    cpuShare: 1,
    pauseWhenHidden: false,
    resultsSent: {},
    pauseReason: null,
    pauseOnBattery: false,
    batterySupported: false,
    onBattery: false,
    log: [],
    busyFraction: 0,
    actions: {
      pause() {
        if (runtime) runtime.pause();
        else set({ status: "paused" });
      },
      resume() {
        if (runtime) runtime.resume();
        else set({ status: "idle" });
      },
      setCpuShare(share) {
        if (runtime) runtime.setCpuShare(share);
        else if (Number.isFinite(share)) set({ cpuShare: Math.min(1, Math.max(0.1, share)) });
      },
      setPauseWhenHidden(value) {
        if (runtime) runtime.setPauseWhenHidden(value);
        else set({ pauseWhenHidden: value });
      },
      setPauseOnBattery(value) {
        if (runtime) runtime.setPauseOnBattery(value);
        else set({ pauseOnBattery: value });
      },
    },
  }));

  const update = (s: VolunteerSnapshot): void =>
    store.setState({
      status: s.status,
      current: s.current,
      unitsDone: s.unitsDone,
      requestersServed: [...s.requestersServed],
      cpuShare: s.cpuShare,
      pauseWhenHidden: s.pauseWhenHidden,
      resultsSent: { ...s.resultsSent },
      pauseReason: s.pauseReason,
      pauseOnBattery: s.pauseOnBattery,
      onBattery: s.onBattery,
      log: s.log,
      busyFraction: s.busyFraction,
    });

  return Object.assign(store, {
    attach(rt: VolunteerRuntime) {
      const before = get();
      runtime = rt;
      rt.setCpuShare(before.cpuShare);
      rt.setPauseWhenHidden(before.pauseWhenHidden);
      rt.setPauseOnBattery(before.pauseOnBattery);
      if (before.status === "paused") rt.pause();
      update(rt.snapshot());
    },
    update,
    setBatterySupported(value: boolean) {
      store.setState({ batterySupported: value });
    },
  });

  function get(): VolunteerState {
    return store.getState();
  }
}
