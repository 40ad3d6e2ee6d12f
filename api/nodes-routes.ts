import type { Router } from "express";
import { z } from "zod";
import type { DirectoryPeer } from "../src/core/protocol/directory.ts";
import { PEER_ID_PATTERN } from "../src/core/protocol/ids.ts";
import type { DirectoryView } from "../signaling/config.ts";
import type { ServerMetrics } from "../signaling/metrics.ts";
import { requireScope } from "./access.ts";
import { ApiError } from "./errors.ts";
import { zodError } from "./request.ts";

/** Most nodes one page lists. */
export const MAX_NODES_PAGE = 500;

export const nodesQuerySchema = z
  .object({
    limit: z.coerce.number().int().positive().max(MAX_NODES_PAGE).default(100),
    /** The last peer id of the previous page (ids are listed in increasing order). */
    after: z.string().max(64).regex(PEER_ID_PATTERN).optional(),
    runtime: z.enum(["browser", "node"]).optional(),
    /** "true": only peers that take work (not requester-only). */
    volunteers: z.enum(["true", "false"]).optional(),
  })
  .strict();

/** One node as the API shows it: what it announced to the directory, said to be self-reported. */
function nodeOf(peer: DirectoryPeer): Record<string, unknown> {
  const c = peer.capabilities;
  return {
    peer_id: peer.peerId,
    joined_at: new Date(peer.joinedAtMs).toISOString(),
    runtime: c.runtime,
    volunteer: c.volunteer !== false,
    busy: c.busy === true,
    cores: c.hardwareConcurrency,
    benchmark_mflops: c.benchmarkMflops,
    webgpu: c.webgpu !== null,
    wasm: c.wasm,
    experts: c.experts ?? [],
  };
}

/**
 * GET /swarm (swarm status) and GET /nodes, /nodes/:id (seed 001's nodes API), scope `read`. Everything
 * here is what peers announced about themselves to the directory (capabilities are self-reported: the
 * swarm never trusts them for a result, only to find candidates), and the server's own API sessions.
 * Units computed peer to peer never pass through the server, so it cannot say how many run: /swarm says so.
 */
export function mountNodesRoutes(router: Router, directory: DirectoryView, metrics: ServerMetrics): void {
  router.get("/swarm", (_req, res) => {
    requireScope(res, "read");
    const peers = { total: 0, browser: 0, node: 0, volunteers: 0, requester_only: 0, busy: 0, webgpu: 0 };
    let cores = 0;
    let mflops = 0;
    let expertHosts = 0;
    for (const peer of directory.peers()) {
      const c = peer.capabilities;
      peers.total++;
      peers[c.runtime]++;
      if (c.volunteer === false) {
        peers.requester_only++;
        continue;
      }
      peers.volunteers++;
      if (c.busy === true) peers.busy++;
      if (c.webgpu !== null) peers.webgpu++;
      if ((c.experts ?? []).length > 0) expertHosts++;
      cores += c.hardwareConcurrency;
      mflops += c.benchmarkMflops;
    }
    const gauges = metrics.apiGauges();
    res.setHeader("Cache-Control", "no-store");
    res.json({
      peers,
      volunteer_cores: cores,
      volunteer_benchmark_mflops: Math.round(mflops),
      expert_hosts: expertHosts,
      api: { sessions_open: gauges.sessionsOpen, solves_running: gauges.solvesRunning },
      self_reported: true,
      note: "peers' figures are what they announced to the directory; units run peer to peer and are not seen by the server",
    });
  });

  router.get("/nodes", (req, res) => {
    requireScope(res, "read");
    const parsed = nodesQuerySchema.safeParse(req.query);
    if (!parsed.success) throw zodError(parsed.error);
    const { limit, after, runtime, volunteers } = parsed.data;
    const matching = [...directory.peers()]
      .filter((p) => runtime === undefined || p.capabilities.runtime === runtime)
      .filter(
        (p) => volunteers === undefined || (p.capabilities.volunteer !== false) === (volunteers === "true"),
      )
      .sort((p, q) => (p.peerId < q.peerId ? -1 : p.peerId > q.peerId ? 1 : 0));
    const from = after === undefined ? 0 : matching.findIndex((p) => p.peerId > after);
    const page = from < 0 ? [] : matching.slice(from, from + limit);
    const last = page.at(-1);
    res.setHeader("Cache-Control", "no-store");
    res.json({
      total: matching.length,
      nodes: page.map(nodeOf),
      next: last !== undefined && from + page.length < matching.length ? last.peerId : null,
    });
  });

  router.get("/nodes/:peer_id", (req, res) => {
    requireScope(res, "read");
    const peer = directory.get(req.params.peer_id ?? "");
    if (peer === undefined) {
      throw new ApiError(
        404,
        "unknown_node",
        "no peer with that id is online (GET /api/v1/nodes lists them)",
      );
    }
    res.setHeader("Cache-Control", "no-store");
    res.json(nodeOf(peer));
  });
}
