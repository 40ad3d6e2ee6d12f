import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { ApiCallError, type ApiClient } from "./api-client.ts";
import { CLASSIFY_POLL_MS, runClassify } from "./classify-tool.ts";
import { runSolve, shrinkResult, type SolveProgress, type SolveToolOptions } from "./solve-tool.ts";
import { loadToolSchemas, type ToolSchemas } from "./tool-schemas.ts";

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  solve:
    "Solve the sparse linear system A x = b on the Open-Swarm server (csr: row_pointers + col_indices; csc: col_pointers + row_indices; coo: row_indices + col_indices; 0-based). Reports progress per iteration when asked; returns converged, iterations, relative_residual, a certificate (‖b − A x‖/‖b‖ recomputed by the server) and x (or x_url when large).",
  verify:
    "Random-probe verification of a session's current x: the residuals of probe_count rows the server picks at random, computed now.",
  job_status: "A solve session's state, iteration, residual and, once ended, its result.",
  swarm_status:
    "The swarm as the server sees it: peers online by kind and capability (self-reported), volunteer cores, expert hosts, the server's own sessions.",
  classify_images:
    "Classify 28×28 grayscale images (Fashion-MNIST: clothing, shoes, bags) with the swarm's mixture of experts: each image is 784 numbers in [0, 1] (pixel/255, row-major, light object on a dark background). Reports progress when asked; returns the job id and predictions (class indices; class names when the server gives them).",
};

const TOOL_NAMES = ["solve", "verify", "job_status", "swarm_status", "classify_images"] as const;

function textResult(value: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value, isError };
}

function errorResult(error: unknown): CallToolResult {
  const known =
    error instanceof ApiCallError
      ? error
      : new ApiCallError("internal_error", `the MCP server failed: ${(error as Error).message}`, 0);
  const body: Record<string, unknown> = { code: known.code, message: known.message, status: known.status };
  if (known.path !== undefined) body["path"] = known.path;
  return {
    content: [{ type: "text", text: `${known.code}: ${known.message}` }],
    structuredContent: { error: body },
    isError: true,
  };
}

function sessionIdOf(args: unknown): string {
  const id = (args as { session_id?: unknown } | undefined)?.session_id;
  if (typeof id !== "string" || id.length === 0 || id.length > 128) {
    throw new ApiCallError(
      "invalid_arguments",
      "session_id: a session id of 1 to 128 characters",
      0,
      "session_id",
    );
  }
  return id;
}

async function swarmStatus(client: ApiClient, schemas: ToolSchemas, signal: AbortSignal) {
  if (schemas.hasSwarmRoute)
    return { source: "/api/v1/swarm", ...((await client.getJson("/api/v1/swarm", signal)) as object) };
  const health = (await client.getJson("/api/v1/health", signal)) as Record<string, unknown>;
  return {
    source: "/api/v1/health",
    peers_online: health["peers"],
    version: health["version"],
    uptime_s: health["uptimeS"],
    missing:
      "peers by kind and capability, jobs running and units per second: this server has no GET /api/v1/swarm yet",
  };
}

/**
 * The MCP server (the SDK's low-level Server: the tools' JSON schemas come from the API's own OpenAPI
 * document, not from zod shapes declared here). Every tool is one or two calls of the HTTP API at
 * `client`; the API's refusals come back as tool errors with its code and message.
 */
export function createMcpServer(client: ApiClient, options: SolveToolOptions, version: string): Server {
  const server = new Server({ name: "open-swarm", version }, { capabilities: { tools: {} } });
  let cached: ToolSchemas | null = null;
  const schemas = async (): Promise<ToolSchemas> => {
    if (cached !== null) return cached;
    const loaded = await loadToolSchemas(client);
    if (loaded.fallbackReason === null) cached = loaded;
    return loaded;
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const s = await schemas();
    const note = s.fallbackReason === null ? "" : ` (input schema unknown: ${s.fallbackReason})`;
    const tools: Tool[] = TOOL_NAMES.map((name) => ({
      name,
      description: `${DESCRIPTIONS[name]}${note}`,
      inputSchema: s.inputs[name] as Tool["inputSchema"],
    }));
    return { tools };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args } = request.params;
    const token = request.params._meta?.progressToken;
    // Progress notifications only when the client asked for them (it sent a progress token).
    const onProgress =
      token === undefined
        ? null
        : (p: SolveProgress) =>
            extra.sendNotification({
              method: "notifications/progress",
              params: { progressToken: token, ...p },
            });
    try {
      switch (name) {
        case "solve":
          return textResult(await runSolve(client, args ?? {}, options, extra.signal, onProgress));
        case "classify_images":
          return textResult(
            await runClassify(client, args ?? {}, { pollMs: CLASSIFY_POLL_MS }, extra.signal, onProgress),
          );
        case "verify":
          return textResult(
            (await client.postJson("/api/v1/verify", args ?? {}, extra.signal)) as Record<string, unknown>,
          );
        case "job_status": {
          const id = encodeURIComponent(sessionIdOf(args));
          const status = (await client.getJson(`/api/v1/status/${id}`, extra.signal)) as Record<
            string,
            unknown
          >;
          const result = status["result"];
          return textResult(
            typeof result === "object" && result !== null
              ? {
                  ...status,
                  result: shrinkResult(client, result as Record<string, unknown>, options.xInlineMax),
                }
              : status,
          );
        }
        case "swarm_status":
          return textResult(await swarmStatus(client, await schemas(), extra.signal));
        default:
          throw new ApiCallError(
            "unknown_tool",
            `no tool "${name.slice(0, 64)}"; tools: ${TOOL_NAMES.join(", ")}`,
            0,
          );
      }
    } catch (error) {
      return errorResult(error);
    }
  });
  return server;
}
