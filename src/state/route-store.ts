import { createStore } from "zustand/vanilla";

/** The app's routes live in the URL hash, so the static server needs no route table. */
export type Route = "contribute" | "dashboard" | "experts" | "about";

export function routeFromHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  if (path.startsWith("dashboard")) return "dashboard";
  if (path.startsWith("about")) return "about";
  return path.startsWith("experts") ? "experts" : "contribute";
}

export const routeStore = createStore<{ route: Route }>(() => ({ route: "contribute" }));

export function bindRouteToLocation(location: { hash: string }, target: EventTarget): void {
  const sync = () => routeStore.setState({ route: routeFromHash(location.hash) });
  sync();
  target.addEventListener("hashchange", sync);
}
