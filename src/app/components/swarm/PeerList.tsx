import type { SwarmPeerView } from "../../../state/swarm/index.ts";
import { shortPeerId } from "../../format.ts";

/**
 * `othersOnline` is the directory's count; `peers` the ones this tab was told about (all of them in a small
 * swarm, a sample in a big one), so the count can exceed the rows.
 */
export function PeerList({ peers, othersOnline }: { peers: readonly SwarmPeerView[]; othersOnline: number }) {
  const total = Math.max(othersOnline, peers.length);
  return (
    <section className="card" data-testid="peers">
      <h2>Peers online</h2>
      <div className="big-number" data-testid="peer-count">
        {total}
      </div>
      <p className="muted">
        {total > peers.length
          ? `other tabs and volunteers online; this tab knows ${peers.length} of them (the directory's sample), live`
          : "other tabs and volunteers the directory knows, live"}
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
