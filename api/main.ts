import { runServer } from "../signaling/run.ts";
import { apiConfigFromEnv, mountApi } from "./index.ts";

// `npm run serve` / `npm start`: the signaling server with the solve API mounted (api/index.ts). The API's
// limits come from the environment (README, "HTTP API").
let apiConfig;
try {
  apiConfig = apiConfigFromEnv(process.env);
} catch (error) {
  console.error(`Open-Swarm: ${(error as Error).message}`);
  process.exit(2);
}
runServer({ configureApp: (app, context) => mountApi(app, context, apiConfig) }).catch((error: unknown) => {
  console.error("Open-Swarm failed to start:", error);
  process.exit(1);
});
