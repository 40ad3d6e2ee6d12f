import { peersOnline, peersOnlineText, type SwarmState } from "../../../state/swarm/index.ts";
import { shortPeerId } from "../../format.ts";

/** The peers online (peers-online.ts: this tab not counted, as in the top bar). */
export function PeerList({
  peers,
  status,
  othersOnline,
}: Pick<SwarmState, "peers" | "status" | "othersOnline">) {
  const count = peersOnline({ status, peers, othersOnline });
  // The swarm's size comes from the directory's count; the links are only the peers this tab works with.
  const linked = peers.filter((peer) => peer.connected).length;
  return (
    <section className="card" data-testid="peers">
      <h2>Peers online</h2>
      <div className="big-number" data-testid="peer-count">
        {count}
      </div>
      <p className="muted">
        {peersOnlineText(count)}, live (this tab not counted)
        {count > peers.length ? `; this tab knows ${peers.length} of them (the directory's sample)` : ""}
      </p>
      <p className="muted" data-testid="peer-linked-count" data-count={linked}>
        linked with {linked} over WebRTC
      </p>
      {peers.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Peer</th>
              <th>WebRTC</th>
              <th>RTT</th>
              <th>Cores</th>
              <th>WebGPU</th>
              <th>MFLOP/s</th>
            </tr>
          </thead>
          <tbody>
            {peers.map((peer) => (
              <tr key={peer.peerId} data-peer-id={peer.peerId}>
                <td className="mono" title={peer.peerId}>
                  {shortPeerId(peer.peerId)}
                </td>
                <td>{peer.connected ? "open" : "—"}</td>
                <td>{peer.rttMs === null ? "—" : `${peer.rttMs.toFixed(1)} ms`}</td>
                <td>{peer.capabilities.hardwareConcurrency}</td>
                <td>{peer.capabilities.webgpu ? peer.capabilities.webgpu.architecture || "yes" : "no"}</td>
                <td>{peer.capabilities.benchmarkMflops.toFixed(0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
