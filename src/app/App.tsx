import { lazy, Suspense, useRef, type MouseEvent } from "react";
import { useStore } from "zustand";
import { peersOnline, peersOnlineText, type SwarmStore } from "../state/swarm/index.ts";
import { routeStore, type Route } from "../state/route-store.ts";
import { SwarmStoreContext, useSwarm } from "./hooks/use-swarm.ts";
import type { ExpertsStore } from "../state/experts/index.ts";
import { ExpertsStoreContext } from "./hooks/use-experts.ts";
import type { JobsStore, VolunteerStore } from "../state/jobs/index.ts";
import { JobsStoreContext, VolunteerStoreContext } from "./hooks/use-jobs.ts";
import { ContributePage } from "./pages/ContributePage.tsx";

// The landing page (Contribute) is in the entry chunk; the other pages, with their charts (uPlot) and forms,
// load when first opened, so a volunteer's tab downloads only what it shows.
const DashboardPage = lazy(() =>
  import("./pages/DashboardPage.tsx").then((m) => ({ default: m.DashboardPage })),
);
const ExpertsPage = lazy(() => import("./pages/ExpertsPage.tsx").then((m) => ({ default: m.ExpertsPage })));
const AboutPage = lazy(() => import("./pages/AboutPage.tsx").then((m) => ({ default: m.AboutPage })));

const NAV: readonly { route: Route; href: string; label: string }[] = [
  { route: "contribute", href: "#/", label: "Contribute" },
  { route: "dashboard", href: "#/dashboard", label: "Dashboard" },
  { route: "experts", href: "#/experts", label: "Experts" },
  { route: "about", href: "#/about", label: "About" },
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
  const main = useRef<HTMLElement>(null);
  // The routes live in the URL hash, so the skip link cannot be a plain href="#main": it moves focus itself.
  const skipToContent = (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    main.current?.focus();
  };
  return (
    <SwarmStoreContext.Provider value={swarmStore}>
      <JobsStoreContext.Provider value={jobsStore ?? null}>
        <VolunteerStoreContext.Provider value={volunteerStore ?? null}>
          <ExpertsStoreContext.Provider value={expertsStore ?? null}>
            <div className="shell">
              <a className="skip-link" href="#main" onClick={skipToContent}>
                Skip to content
              </a>
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
              <main id="main" ref={main} tabIndex={-1}>
                <Suspense fallback={<p className="muted">Loading…</p>}>
                  {route === "dashboard" ? (
                    <DashboardPage />
                  ) : route === "experts" ? (
                    <ExpertsPage />
                  ) : route === "about" ? (
                    <AboutPage />
                  ) : (
                    <ContributePage />
                  )}
                </Suspense>
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
  const count = useSwarm(peersOnline);
  return (
    <div className="status" data-testid="connection-status" data-status={status}>
      <span className={`dot ${status}`} aria-hidden="true" />
      <span>{status}</span>
      {status === "connected" && (
        <span className="muted" data-testid="topbar-peer-count" data-count={count}>
          · {peersOnlineText(count)}
        </span>
      )}
    </div>
  );
}
