import { createStore } from "zustand/vanilla";

/** The app's two routes live in the URL hash, so the static server needs no route table. */
export type Route = "contribute" | "dashboard";

export function routeFromHash(hash: string): Route {
  return hash.replace(/^#\/?/, "").startsWith("dashboard") ? "dashboard" : "contribute";
}

export const routeStore = createStore<{ route: Route }>(() => ({ route: "contribute" }));

export function bindRouteToLocation(location: { hash: string }, target: EventTarget): void {
  const sync = () => routeStore.setState({ route: routeFromHash(location.hash) });
  sync();
  target.addEventListener("hashchange", sync);
}
