import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import type { JobSettings } from "../../../api/jobs/job-config.ts";
import type { VolunteerFault } from "../../../src/core/jobs/volunteer/index.ts";
import { FileIdentityStore } from "../../../src/node/identity-file.ts";
import { NodeVolunteer } from "../../../src/node/volunteer.ts";
import type { TestServer } from "../signaling/helpers.ts";
import { ndjsonLines, startApiServer } from "./helpers.ts";

// Helpers of the swarm requester's tests (swarm.test.ts, swarm-cancel.test.ts): the real server with its
// swarm requester on, and real Node volunteers (the runtime of `open-swarm volunteer`, in this process,
// over libwebrtc on loopback), all closed after each test.

export type Line = Record<string, unknown>;

let server: TestServer | null = null;
const volunteers: NodeVolunteer[] = [];
const dirs: string[] = [];

/** Registers the cleanup in the calling test file. */
export function closeAfterEach(): void {
  afterEach(async () => {
    await Promise.all(volunteers.splice(0).map((v) => v.leave()));
    await server?.close();
    server = null;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "open-swarm-api-swarm-"));
  dirs.push(dir);
  return dir;
}

/** The API with its swarm requester on; a unit nobody holds any more goes back to the server after 300 ms. */
export async function startSwarmServer(jobs: Partial<JobSettings> = {}): Promise<TestServer> {
  server = await startApiServer({
    // Joining and linking get CI-load allowances; a unit once held and then unheld comes back at once.
    swarm: {
      enabled: true,
      dataDir: tempDir(),
      joinTimeoutMs: 60_000,
      linkWaitMs: 30_000,
      unheldFallbackMs: 300,
    },
    // Jobs wait for their volunteers (K of them for a distributed job) as long as sessions do.
    jobs: { linkWaitMs: 30_000, ...jobs },
  });
  return server;
}

export async function startVolunteer(fault?: VolunteerFault): Promise<NodeVolunteer> {
  const volunteer = await NodeVolunteer.start({
    server: server!.baseUrl,
    identityStore: new FileIdentityStore(path.join(tempDir(), "identity.json")),
    threads: 1,
    ...(fault ? { fault } : {}),
  });
  volunteers.push(volunteer);
  return volunteer;
}

export async function collect(res: Response): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const line of ndjsonLines(res)) lines.push(line);
  return lines;
}

export const updatesOf = (lines: Line[]): Line[] => lines.filter((l) => l["type"] === "iteration_update");
export const resultOf = (lines: Line[]): Line => lines.find((l) => l["type"] === "solve_result")!;
