/**
 * The host's person's choices about what this tab hosts, kept in localStorage so they survive reloads:
 * today one switch, "host models that are not this site's" (off by default: a requester could otherwise
 * make this tab run any graph it likes; see core/experts/host/hosted-models.ts).
 */
const HOST_ANY_MODEL_KEY = "open-swarm.experts.host-any-model";

export function readHostAnyModel(win: Window): boolean {
  try {
    return win.localStorage.getItem(HOST_ANY_MODEL_KEY) === "on";
  } catch {
    return false; // storage blocked (private mode, sandboxed frame): the safe default
  }
}

export function saveHostAnyModel(win: Window, on: boolean): void {
  try {
    if (on) win.localStorage.setItem(HOST_ANY_MODEL_KEY, "on");
    else win.localStorage.removeItem(HOST_ANY_MODEL_KEY);
  } catch {
    // Not persisted: the switch still applies to this page.
  }
}
