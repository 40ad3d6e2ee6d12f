import type { ServerConfig } from "./config.ts";
import { configFromEnv } from "./env.ts";
import { startServer } from "./server.ts";

/**
 * The server as a process: configuration from the environment (see signaling/README.md), `extra` on top
 * (api/main.ts mounts the solve API this way), a startup line, and a drain then a clean stop on SIGINT/SIGTERM.
 */
export async function runServer(extra: Partial<ServerConfig> = {}): Promise<void> {
  let config;
  try {
    config = { ...configFromEnv(process.env), ...extra };
  } catch (error) {
    console.error(`Open-Swarm: ${(error as Error).message}`);
    process.exit(2);
  }
  const server = await startServer(config);
  const host = config.host ?? "127.0.0.1";
  console.log(`Open-Swarm is running at http://localhost:${server.port}`);
  if (host === "127.0.0.1" || host === "localhost" || host === "::1") {
    console.log(`(listening on ${host} only; set HOST=0.0.0.0 to accept other machines)`);
  } else {
    console.log(`(listening on ${host}:${server.port})`);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1); // a second Ctrl-C forces it
    stopping = true;
    server.logger.info({ event: "shutdown", signal });
    // Drain first (ready turns 503, running API streams finish or end with a server_shutdown event, within
    // the API's grace, API_DRAIN_MS), then close. The `peer` package keeps its own timers running after
    // close, so exit explicitly.
    void server
      .drain()
      .catch((error: unknown) => server.logger.error({ event: "drain_failed", error: String(error) }))
      .then(() => server.close())
      .finally(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
