// First: no CSP-violating eval probe by zod (see the module).
import "../core/base/zod-jitless.ts";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { bootSwarm } from "../state/swarm/index.ts";
import { bindRouteToLocation } from "../state/route-store.ts";
import { App } from "./App.tsx";
import "./styles.css";

const booted = bootSwarm(window);
bindRouteToLocation(window.location, window);

const rootElement = document.getElementById("root");
if (!rootElement) throw new Error("index.html has no #root element");
createRoot(rootElement).render(
  <StrictMode>
    <App
      swarmStore={booted.store}
      jobsStore={booted.jobs}
      volunteerStore={booted.volunteer}
      expertsStore={booted.experts}
    />
  </StrictMode>,
);
