import { z } from "zod";
import { LOG_LEVELS, iceServerSchema, type ServerConfig } from "./config.ts";

/** Environment variables the server reads, with their config keys. Unset means the default. */
export const ENV_VARS = {
  PORT: "port",
  HOST: "host",
  STATIC_DIR: "staticDir",
  ICE_SERVERS: "iceServers",
  LOG_LEVEL: "logLevel",
  MAX_CONNECTIONS_PER_IP: "maxConnectionsPerIp",
  UPGRADE_RATE_PER_S: "upgradeRatePerS",
  UPGRADE_BURST: "upgradeBurst",
  MESSAGE_RATE_PER_S: "messageRatePerS",
  MESSAGE_BURST: "messageBurst",
  MAX_PAYLOAD_BYTES: "maxPayloadBytes",
  MAX_INVALID_MESSAGES: "maxInvalidMessages",
  HEARTBEAT_INTERVAL_MS: "heartbeatIntervalMs",
  JOIN_TIMEOUT_MS: "joinTimeoutMs",
  MAX_PEERS: "maxPeers",
  TRUST_PROXY: "trustProxy",
  TURN_URLS: "turnUrls",
  TURN_SECRET: "turnSecret",
  TURN_TTL_S: "turnTtlS",
  METRICS_TOKEN: "metricsToken",
} as const;

const positiveNumber = z.coerce.number().positive();
const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().min(1).optional(),
  STATIC_DIR: z.string().min(1).optional(),
  ICE_SERVERS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === "") return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: 'must be JSON, e.g. [{"urls":"stun:stun.example.org"}]' });
        return z.NEVER;
      }
    })
    .pipe(z.array(iceServerSchema).max(32).optional()),
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  MAX_CONNECTIONS_PER_IP: positiveInt.optional(),
  UPGRADE_RATE_PER_S: positiveNumber.optional(),
  UPGRADE_BURST: positiveInt.optional(),
  MESSAGE_RATE_PER_S: positiveNumber.optional(),
  MESSAGE_BURST: positiveInt.optional(),
  MAX_PAYLOAD_BYTES: positiveInt.optional(),
  MAX_INVALID_MESSAGES: positiveInt.optional(),
  HEARTBEAT_INTERVAL_MS: positiveInt.optional(),
  JOIN_TIMEOUT_MS: positiveInt.optional(),
  MAX_PEERS: positiveInt.optional(),
  TRUST_PROXY: z.enum(["0", "1", "true", "false"]).optional(),
  TURN_URLS: z
    .string()
    .optional()
    .transform((text) =>
      text
        ?.split(",")
        .map((url) => url.trim())
        .filter((url) => url !== ""),
    )
    .pipe(
      z
        .array(z.string().regex(/^turns?:[^\s,]{1,500}$/, "must be turn: or turns: URLs"))
        .max(16)
        .optional(),
    ),
  TURN_SECRET: z.string().min(16, "must be at least 16 characters").max(512).optional(),
  TURN_TTL_S: z.coerce.number().int().min(60).max(86_400).optional(),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").max(512).optional(),
});

/** Reads the server config from the environment; throws one readable error listing every bad variable. */
export function configFromEnv(env: Record<string, string | undefined>): Partial<ServerConfig> {
  const present = Object.fromEntries(
    Object.keys(ENV_VARS)
      .filter((name) => env[name] !== undefined && env[name] !== "")
      .map((name) => [name, env[name]]),
  );
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid environment:\n${lines.join("\n")}`);
  }
  const parsed = result.data;
  const config: Partial<ServerConfig> = {};
  for (const [name, key] of Object.entries(ENV_VARS) as [keyof typeof ENV_VARS, keyof ServerConfig][]) {
    const value = parsed[name];
    if (value === undefined) continue;
    (config as Record<string, unknown>)[key] =
      name === "TRUST_PROXY" ? value === "1" || value === "true" : value;
  }
  return config;
}
