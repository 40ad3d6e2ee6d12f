import { runServer } from "./run.ts";

// The signaling server alone (directory, PeerJS, health/config/metrics). `npm run serve` starts api/main.ts,
// which is this plus the solve API.
runServer().catch((error: unknown) => {
  console.error("Open-Swarm failed to start:", error);
  process.exit(1);
});
