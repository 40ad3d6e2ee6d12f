// The `open-swarm mcp` server: MCP tools over the Open-Swarm HTTP API.
export { ApiClient } from "./api-client.ts";
export { createMcpServer } from "./server.ts";
