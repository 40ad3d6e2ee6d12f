import { useSwarm } from "../hooks/use-swarm.ts";
import { CapabilitiesCard } from "../components/swarm/CapabilitiesCard.tsx";
import { PeerList } from "../components/swarm/PeerList.tsx";
import { VolunteeringCard } from "../components/volunteer/VolunteeringCard.tsx";
import { useHasVolunteer } from "../hooks/use-jobs.ts";
import { ExpertsHostedCard } from "../components/experts/ExpertsHostedCard.tsx";
import { useHasExperts } from "../hooks/use-experts.ts";

/** The landing page: what this tab is, what it can do, and who else is online. */
export function ContributePage() {
  const status = useSwarm((s) => s.status);
  const self = useSwarm((s) => s.self);
  const peers = useSwarm((s) => s.peers);
  const othersOnline = useSwarm((s) => s.othersOnline);
  const counters = useSwarm((s) => s.counters);
  const lastError = useSwarm((s) => s.lastError);
  const hasVolunteer = useHasVolunteer();
  const hasExperts = useHasExperts();

  return (
    <>
      <p>
        This tab is part of the Open-Swarm volunteer network: while it is open, it can compute work units for
        others and talk to other tabs directly over WebRTC.
      </p>
      {lastError && (
        <p className="error" role="alert">
          {lastError}
        </p>
      )}
      {hasVolunteer && (
        <div style={{ marginBottom: 16 }}>
          <VolunteeringCard />
        </div>
      )}
      {hasExperts && (
        <div style={{ marginBottom: 16 }}>
          <ExpertsHostedCard />
        </div>
      )}
      <div className="grid">
        <section className="card" data-testid="self">
          <h2>This tab</h2>
          <dl className="kv">
            <dt>Status</dt>
            <dd data-testid="self-status">{status}</dd>
            <dt>Peer id</dt>
            <dd className="mono" data-testid="self-peer-id">
              {self?.peerId ?? "…"}
            </dd>
            <dt>Identity</dt>
            <dd>
              {self === null
                ? "…"
                : self.persistentIdentity
                  ? "kept in this browser (IndexedDB)"
                  : "temporary: another tab of this browser holds the stored identity"}
            </dd>
            <dt>Messages</dt>
            <dd>
              {counters.messagesReceived} received · {counters.invalidDropped} invalid dropped ·{" "}
              {counters.forgedRejected} forged rejected
            </dd>
            <dt>Defences</dt>
            <dd data-testid="defence-counters">
              {counters.throttled} throttled · {counters.floodingLinksClosed} flooding links closed ·{" "}
              {counters.overBudgetRefused} over budget · {counters.staleOrReplayed} stale or replayed ·{" "}
              {counters.linksRefused} links refused
            </dd>
          </dl>
        </section>
        {self ? (
          <CapabilitiesCard capabilities={self.capabilities} notes={self.probeNotes} />
        ) : (
          <section className="card">
            <h2>My capabilities</h2>
            <p className="muted">measuring…</p>
          </section>
        )}
      </div>
      <div style={{ marginTop: 16 }}>
        <PeerList peers={peers} status={status} othersOnline={othersOnline} />
      </div>
    </>
  );
}
