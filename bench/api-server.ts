import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { mountApi } from "../api/index.ts";
import { startServer } from "../signaling/server.ts";

type ApiOptions = NonNullable<Parameters<typeof mountApi>[2]>;

/** The in-process server the API benchmarks measure, and its scratch directory. */
export interface BenchApiServer {
  readonly server: Awaited<ReturnType<typeof startServer>>;
  /** Its scratch directory (the static dir, and whatever the bench keeps there). */
  readonly dir: string;
  /** Closes the server and removes the directory. */
  close(): Promise<void>;
}

/**
 * The real server with the API mounted, on a loopback port, serving an empty page from a fresh scratch
 * directory. The request rate is lifted (a benchmark sends one address's requests as fast as it can: the
 * production limits are tested elsewhere); `options` (or `options(dir)`) adds the bench's own settings.
 */
export async function startBenchApiServer(
  name: string,
  options: ApiOptions | ((dir: string) => ApiOptions) = {},
): Promise<BenchApiServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `bench-${name}-`));
  const own = typeof options === "function" ? options(dir) : options;
  writeFileSync(path.join(dir, "index.html"), "<!doctype html>");
  const server = await startServer({
    port: 0,
    host: "127.0.0.1",
    staticDir: dir,
    logLevel: (process.env["LOG_LEVEL"] as "info" | undefined) ?? "silent",
    configureApp: (app, context) =>
      mountApi(app, context, { requestRatePerS: 1_000, requestBurst: 1_000, ...own }),
  });
  return {
    server,
    dir,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
