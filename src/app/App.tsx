import { useStore } from "zustand";
import type { SwarmStore } from "../state/swarm-store.ts";
import { routeStore, type Route } from "../state/route-store.ts";
import { SwarmStoreContext, useSwarm } from "./use-swarm.ts";
import { ContributePage } from "./pages/ContributePage.tsx";
import { DashboardPage } from "./pages/DashboardPage.tsx";

const NAV: readonly { route: Route; href: string; label: string }[] = [
  { route: "contribute", href: "#/", label: "Contribute" },
  { route: "dashboard", href: "#/dashboard", label: "Dashboard" },
];

export function App({ swarmStore }: { swarmStore: SwarmStore }) {
  const route = useStore(routeStore, (s) => s.route);
  return (
    <SwarmStoreContext.Provider value={swarmStore}>
      <div className="shell">
        <header className="topbar">
          <h1>Open-Swarm</h1>
          <nav>
            {NAV.map((item) => (
              <a key={item.route} href={item.href} aria-current={route === item.route ? "page" : undefined}>
                {item.label}
              </a>
            ))}
          </nav>
          <ConnectionStatus />
        </header>
        <main>{route === "dashboard" ? <DashboardPage /> : <ContributePage />}</main>
      </div>
    </SwarmStoreContext.Provider>
  );
}

function ConnectionStatus() {
  const status = useSwarm((s) => s.status);
  const peerCount = useSwarm((s) => s.peers.length);
  return (
    <div className="status" data-testid="connection-status" data-status={status}>
      <span className={`dot ${status}`} aria-hidden="true" />
      <span>{status}</span>
      {status === "connected" && <span className="muted">· {peerCount + 1} online</span>}
    </div>
  );
}
