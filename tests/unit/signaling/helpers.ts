import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { WebSocket } from "ws";
import { generateKeyPair, identityFromKeyPair, type Identity } from "../../../src/core/identity/identity.ts";
import type { Capabilities } from "../../../src/core/protocol/capabilities.ts";
import { DirectoryClient, type DirectoryClientOptions } from "../../../src/core/net/directory-client.ts";
import { directoryUrlFor } from "../../../src/core/net/directory-client.ts";
import type { ServerConfig } from "../../../signaling/config.ts";
import { startServer, type RunningServer } from "../../../signaling/server.ts";

/** The smallest valid WebAssembly module: magic number and version 1. */
export const EMPTY_WASM = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

export interface TestServer {
  server: RunningServer;
  baseUrl: string;
  directoryUrl: string;
  /** The temporary STATIC_DIR the server serves (removed by close). */
  staticDir: string;
  /** Every JSON log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts the real server in-process on a free port, with a temporary STATIC_DIR and captured logs. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const staticDir = mkdtempSync(path.join(tmpdir(), "open-swarm-static-"));
  writeFileSync(path.join(staticDir, "index.html"), "<!doctype html><title>Open-Swarm test</title>");
  mkdirSync(path.join(staticDir, "assets"));
  writeFileSync(path.join(staticDir, "assets", "kernels-abc123.wasm"), EMPTY_WASM);
  writeFileSync(path.join(staticDir, "assets", "worker-abc123.mjs"), "export const x = 1;\n");
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const server = await startServer({ port: 0, host: "127.0.0.1", staticDir, logger, ...overrides });
  return {
    server,
    baseUrl: server.url,
    directoryUrl: directoryUrlFor(server.url),
    staticDir,
    logs,
    async close() {
      await server.close();
      rmSync(staticDir, { recursive: true, force: true });
    },
  };
}

export async function newIdentity(): Promise<Identity> {
  return identityFromKeyPair(await generateKeyPair());
}

export function capabilities(overrides: Partial<Capabilities> = {}): Capabilities {
  return {
    webgpu: null,
    wasm: { simd: true, threads: false },
    hardwareConcurrency: 2,
    crossOriginIsolated: true,
    benchmarkMflops: 450,
    runtime: "node",
    ...overrides,
  };
}

export function newClient(
  url: string,
  identity: Identity,
  options: Partial<DirectoryClientOptions> = {},
): DirectoryClient {
  return new DirectoryClient({
    url,
    identity,
    capabilities: capabilities(),
    WebSocketImpl: WebSocket,
    reconnect: false,
    ...options,
  });
}

/** Polls until `check` returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A raw WebSocket that records every text frame it receives, parsed, and how it closed. */
export class RawSocket {
  readonly messages: Record<string, unknown>[] = [];
  closeCode: number | null = null;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, options: { autoPong?: boolean } = {}) {
    this.ws = new WebSocket(url, { autoPong: options.autoPong ?? true });
    this.ws.on("message", (data) => {
      this.messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    });
    this.ws.on("close", (code) => {
      this.closeCode = code;
    });
    this.ws.on("error", () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once("error", reject);
    });
  }

  send(value: unknown): void {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  /** Waits for the n-th (0-based) message of `type`. */
  async waitForType(type: string, n = 0): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await waitFor(() => {
      found = this.messages.filter((m) => m["type"] === type)[n];
      return found !== undefined;
    }, `message '${type}' #${n}`);
    return found!;
  }

  /** Stops reading the socket, as a frozen tab does: pings are no longer answered (nor messages seen). */
  freeze(): void {
    this.ws.pause();
  }

  async waitForClose(): Promise<number> {
    await waitFor(() => this.closeCode !== null, "socket close");
    return this.closeCode!;
  }
}

/**
 * Registers a joined directory client with the PeerServer over a raw socket (a modified client speaking the
 * wire protocol itself); resolves once the server said OPEN. The caller closes the socket.
 */
export async function registerRawPeerJs(baseUrl: string, client: DirectoryClient): Promise<RawSocket> {
  const url = new URL("/peerjs/peerjs", baseUrl.replace(/^http/, "ws"));
  url.search = new URLSearchParams({
    key: "peerjs",
    id: client.self!.peerId,
    token: client.sessionToken!,
  }).toString();
  const raw = new RawSocket(url.toString());
  try {
    await raw.opened;
    await raw.waitForType("OPEN");
  } catch (error) {
    raw.ws.terminate();
    throw error;
  }
  return raw;
}

/**
 * Opens a WebSocket and reports the HTTP status it was refused with, or "open". An opened socket is
 * closed at once, or pushed to `hold` to keep it open (as an attacker holding connections would).
 */
export function tryUpgrade(url: string, hold?: WebSocket[]): Promise<number | "open" | "error"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      resolve("open");
      if (hold) hold.push(ws);
      else ws.terminate();
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on("error", () => resolve("error"));
  });
}
