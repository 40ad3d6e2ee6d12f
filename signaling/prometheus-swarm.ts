import type { Registry } from "prom-client";
import type { DirectoryPeer } from "../src/core/protocol/directory.ts";
import { API_UNIT_OUTCOMES, type MetricsSnapshot } from "./metrics.ts";
import { byLabel, mirroredCounter, mirroredGauge, one } from "./prometheus-mirror.ts";

export interface SwarmSeriesDeps {
  readonly snapshot: () => MetricsSnapshot;
  readonly peers: () => Iterable<DirectoryPeer>;
}

/**
 * The swarm as the server sees it, in Prometheus text: peers by kind (volunteers vs requester-only, as
 * they announced it: self-reported), directory queries, the API requester's units by outcome, verification
 * failures, and the admin bans. Values are the JSON view's (metrics.ts), read at scrape time.
 */
export function registerSwarmSeries(r: Registry, deps: SwarmSeriesDeps): void {
  const s = deps.snapshot;
  mirroredGauge(
    r,
    "open_swarm_peers_by_kind",
    "Peers online by kind as announced: volunteer (takes work) or requester_only",
    ["kind"],
    () => {
      let volunteers = 0;
      let requesters = 0;
      for (const peer of deps.peers()) {
        if (peer.capabilities.volunteer === false) requesters++;
        else volunteers++;
      }
      return [
        [{ kind: "volunteer" }, volunteers],
        [{ kind: "requester_only" }, requesters],
      ];
    },
  );
  mirroredCounter(
    r,
    "open_swarm_directory_queries_total",
    "Directory queries answered, and refused for coming too fast",
    ["result"],
    () => byLabel("result", ["answered", "refused"] as const, (k) => s().queries[k]),
  );
  mirroredGauge(r, "open_swarm_directory_subscriptions", "Directory subscriptions held", [], () =>
    one(s().subscriptions),
  );
  mirroredCounter(
    r,
    "open_swarm_api_units_total",
    "Units the API's swarm requester sent, by how each attempt ended; recomputed_on_server: sessions taken back to the server",
    ["outcome"],
    () => {
      const units = s().apiUnits;
      return byLabel("outcome", API_UNIT_OUTCOMES, (k) => units[k] ?? 0);
    },
  );
  mirroredCounter(
    r,
    "open_swarm_verification_failures_total",
    "Verification failures: probe (a random-probe check above the session's tolerance), swarm_result (a volunteer's result the server's requester refused)",
    ["source"],
    () => {
      const a = s().api;
      return [
        [{ source: "probe" }, a.verificationsFailed],
        [{ source: "swarm_result" }, a.swarmResultsRejected],
      ];
    },
  );
  mirroredGauge(r, "open_swarm_bans_active", "Peer ids banned at the directory now (admin API)", [], () =>
    one(s().bansActive),
  );
  mirroredCounter(r, "open_swarm_bans_total", "Bans added and lifted (admin API)", ["action"], () =>
    byLabel("action", ["added", "lifted"] as const, (k) => s().bans[k]),
  );
  mirroredCounter(
    r,
    "open_swarm_bans_joins_refused_total",
    "Directory joins refused because the peer id is banned",
    [],
    () => one(s().bans.joinsRefused),
  );
  mirroredCounter(
    r,
    "open_swarm_bans_sessions_closed_total",
    "Live directory sessions closed by a ban",
    [],
    () => one(s().bans.sessionsClosed),
  );
}
