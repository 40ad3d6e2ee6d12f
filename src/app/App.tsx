import { useStore } from "zustand";
import type { SwarmStore } from "../state/swarm/index.ts";
import { routeStore, type Route } from "../state/route-store.ts";
import { SwarmStoreContext, useSwarm } from "./hooks/use-swarm.ts";
import type { ExpertsStore } from "../state/experts/index.ts";
import { ExpertsStoreContext } from "./hooks/use-experts.ts";
import { ExpertsPage } from "./pages/ExpertsPage.tsx";
import type { JobsStore, VolunteerStore } from "../state/jobs/index.ts";
import { JobsStoreContext, VolunteerStoreContext } from "./hooks/use-jobs.ts";
import { ContributePage } from "./pages/ContributePage.tsx";
import { DashboardPage } from "./pages/DashboardPage.tsx";

const NAV: readonly { route: Route; href: string; label: string }[] = [
  { route: "contribute", href: "#/", label: "Contribute" },
  { route: "dashboard", href: "#/dashboard", label: "Dashboard" },
  { route: "experts", href: "#/experts", label: "Experts" },
];

export interface AppProps {
  swarmStore: SwarmStore;
  /** The requester's job runtime; without it the Dashboard offers only the local solve. */
  jobsStore?: JobsStore | undefined;
  /** This tab's volunteer runtime; without it the Contribute view has no Volunteering card. */
  volunteerStore?: VolunteerStore | undefined;
  /** The mixture-of-experts view (classify jobs, expert host); without it the Experts view says so. */
  expertsStore?: ExpertsStore | undefined;
}

export function App({ swarmStore, jobsStore, volunteerStore, expertsStore }: AppProps) {
  const route = useStore(routeStore, (s) => s.route);
  return (
    <SwarmStoreContext.Provider value={swarmStore}>
      <JobsStoreContext.Provider value={jobsStore ?? null}>
        <VolunteerStoreContext.Provider value={volunteerStore ?? null}>
          <ExpertsStoreContext.Provider value={expertsStore ?? null}>
            <div className="shell">
              <header className="topbar">
                <h1>Open-Swarm</h1>
                <nav>
                  {NAV.map((item) => (
                    <a
                      key={item.route}
                      href={item.href}
                      aria-current={route === item.route ? "page" : undefined}
                    >
                      {item.label}
                    </a>
                  ))}
                </nav>
                <ConnectionStatus />
              </header>
              <main>
                {route === "dashboard" ? (
                  <DashboardPage />
                ) : route === "experts" ? (
                  <ExpertsPage />
                ) : (
                  <ContributePage />
                )}
              </main>
            </div>
          </ExpertsStoreContext.Provider>
        </VolunteerStoreContext.Provider>
      </JobsStoreContext.Provider>
    </SwarmStoreContext.Provider>
  );
}

function ConnectionStatus() {
  const status = useSwarm((s) => s.status);
  const peerCount = useSwarm((s) => Math.max(s.othersOnline, s.peers.length));
  return (
    <div className="status" data-testid="connection-status" data-status={status}>
      <span className={`dot ${status}`} aria-hidden="true" />
      <span>{status}</span>
      {status === "connected" && <span className="muted">· {peerCount + 1} online</span>}
    </div>
  );
}
