import type { Command } from "commander";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CliIo } from "./io.ts";
import { ApiClient, createMcpServer } from "./mcp/index.ts";
import { parsePositiveInt, parseServerUrl } from "./swarm-options.ts";

interface McpCliOptions {
  server: string;
  key?: string;
  xInlineMax: number;
  progressMs: number;
}

/** The environment variable the key may come from instead of --key (argv is visible to every local user). */
const KEY_ENV = "OPEN_SWARM_API_KEY";

const HELP_AFTER = `
Speaks the Model Context Protocol over stdio (stdin/stdout; logs go to stderr), so an MCP client (a coding
agent, Claude Desktop) can use the Open-Swarm server at --server. Tools: solve (streams progress), verify,
job_status, swarm_status; their input schemas are the server's own (GET /api/v1/openapi.json). The key,
from --key or ${KEY_ENV}, is sent as Authorization: Bearer KEY.

An MCP client configuration (e.g. claude_desktop_config.json):
  { "mcpServers": { "open-swarm": { "command": "node",
      "args": ["/path/to/open-swarm/bin/open-swarm.mjs", "mcp", "--server", "http://127.0.0.1:8080"],
      "env": { "${KEY_ENV}": "k1" } } } }
`;

export function registerMcpCommand(program: Command, io: CliIo, version: string): void {
  program
    .command("mcp")
    .description("serve the Open-Swarm API as MCP tools over stdio (for coding agents)")
    .requiredOption("--server <url>", "the Open-Swarm server (http://host:port)", parseServerUrl)
    .option("--key <key>", `API key, sent as Authorization: Bearer (default: $${KEY_ENV})`)
    .option("--x-inline-max <n>", "solutions longer than this are returned as a URL", parsePositiveInt, 1000)
    .option("--progress-ms <ms>", "at most one progress notification per this many ms", parsePositiveInt, 200)
    .addHelpText("after", HELP_AFTER)
    .action(async (options: McpCliOptions) => {
      const key = options.key ?? io.env[KEY_ENV];
      const client = new ApiClient(options.server, key === "" ? undefined : key);
      const server = createMcpServer(
        client,
        { xInlineMax: options.xInlineMax, progressIntervalMs: options.progressMs },
        version,
      );
      const transport = new StdioServerTransport(process.stdin, process.stdout);
      // The client ends the session by closing our stdin: then close, and let the process exit.
      const ended = new Promise<void>((resolve) => {
        process.stdin.once("end", resolve);
        process.stdin.once("close", resolve);
      });
      await server.connect(transport);
      io.stderr.write(`open-swarm mcp: tools for ${options.server} on stdio\n`);
      await ended;
      await server.close();
    });
}
