import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../signaling/helpers.ts";
import { mountApi } from "../../../api/index.ts";
import { startTestServer } from "../signaling/helpers.ts";
import { call, refused, startApiServer } from "./helpers.ts";

// Without API keys the API answers this machine only: a remote caller gets 403 api_keys_required saying
// how to configure keys, counted, and the startup log says so. Two honest remote callers: a request that
// really arrives from a non-loopback interface address of this machine (when it has one), and a request
// whose proxy (TRUST_PROXY on, as behind a reverse proxy) reports a remote client in X-Forwarded-For.
let proxied: TestServer;

beforeAll(async () => {
  proxied = await startTestServer({
    trustProxy: true,
    configureApp: (app, context) => mountApi(app, context, {}),
  });
});
afterAll(async () => {
  await proxied.close();
});

const externalIpv4 = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address;

describe("no API keys configured", () => {
  it("says in the startup log that the API answers loopback callers only", () => {
    const mounted = proxied.logs.find((l) => l["event"] === "api_mounted");
    expect(mounted?.["keys"]).toBe(0);
    expect(String(mounted?.["msg"])).toContain("loopback callers only");
  });

  it("answers a loopback caller, and refuses a remote one behind the trusted proxy with api_keys_required", async () => {
    await refused(await call(proxied.baseUrl, "/api/v1/status/none"), 404, "unknown_session");
    const error = await refused(
      await call(proxied.baseUrl, "/api/v1/status/none", { "X-Forwarded-For": "203.0.113.9" }),
      403,
      "api_keys_required",
    );
    expect(error.message).toContain("OPEN_SWARM_API_KEYS");
    expect(proxied.server.metrics().rejected.http["api_api_keys_required"]).toBe(1);
  });

  it.skipIf(externalIpv4 === undefined)(
    "refuses a caller that connects from a non-loopback interface address of this machine",
    async () => {
      const open = await startApiServer({}, { host: "0.0.0.0" });
      try {
        const url = `http://${externalIpv4}:${open.server.port}`;
        await refused(await call(url, "/api/v1/status/none"), 403, "api_keys_required");
        await refused(
          await call(`http://127.0.0.1:${open.server.port}`, "/api/v1/status/none"),
          404,
          "unknown_session",
        );
      } finally {
        await open.close();
      }
    },
  );
});
