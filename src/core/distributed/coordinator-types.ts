import type { BlockPreconditionerName, DistributedMethod, ToWorker } from "../protocol/distributed.ts";
import type { Checkpoint } from "./checkpoint.ts";

/** The coordinator's options and result (coordinator.ts). */

export interface DistributedOptions {
  method: DistributedMethod;
  /** Local preconditioner of each diagonal block; default ic0 for pcg, ilu0 for bicgstab. */
  preconditioner?: BlockPreconditionerName;
  tol: number;
  maxIter: number;
  /** Collect a consistent x every this many iterations (default 10); 0 = only at the start. */
  checkpointEvery?: number;
  /**
   * "coordinator": workers send halo parts here to be forwarded; "peer": the transport delivers them,
   * except the parts of a pair without a link, relayed here (halo-relay.ts); the coordinator falls back to
   * "coordinator" for everyone when the peer-routing audit finds an inconsistency.
   */
  haloRouting?: HaloRouting;
  /** Restarts allowed when the recursive residual claims convergence the certificate denies (default 5). */
  maxDriftRestarts?: number;
  x0?: Float64Array;
  /**
   * The iteration x0 was checkpointed at when a solve resumes from a persisted checkpoint (default 0):
   * iterations and checkpoints count on from it, and it is the first rollback point.
   */
  startIteration?: number;
  /** Each committed checkpoint (every block's x of one iteration, audited): the requester persists it. */
  onCheckpoint?: (checkpoint: Checkpoint) => void;
  onIteration?: (iteration: number, relResidual: number) => void;
  /** Rows per block the audit samples at each checkpoint and the gather (default 16; audit.ts). */
  auditRows?: number;
  /** Uniform [0, 1) for the audit's row sample (default Math.random: a holder must not know it). */
  random?: () => number;
}

export type HaloRouting = "coordinator" | "peer";

/** A block holder the audit caught (audit.ts): the solve waits for its block's new holder. */
export interface Blame {
  readonly block: number;
  readonly detail: string;
}

export type DistributedStopReason = "converged" | "max-iterations" | "breakdown" | "worker-error";

export interface DistributedResult {
  x: Float64Array;
  converged: boolean;
  reason: DistributedStopReason;
  /** Certificate ‖b − A x‖/‖b‖ computed by the coordinator in f64 from the gathered x. */
  relResidual: number;
  /** Updates applied in total, including those lost to a failover rollback (and those before startIteration). */
  iterations: number;
  /** The persisted checkpoint's iteration this solve resumed from (0: it started from x0 or zero). */
  resumedFrom: number;
  failovers: number;
  driftRestarts: number;
  /** Block holders the audit caught sending wrong values (each one's block moved: counted in failovers). */
  blamed: number;
  /** Times peer halo routing fell back to coordinator routing (an inconsistent checkpoint; see audit.ts). */
  peerFallbacks: number;
  /**
   * Peer routing, pair by pair: halo parts the coordinator relayed because their sender had no link to the
   * receiver (halo-relay.ts), and the distinct block pairs that needed it.
   */
  relayedHaloParts: number;
  relayedHaloPairs: number;
  /** Halo routing at the end (a fallback turns "peer" into "coordinator"). */
  haloRouting: HaloRouting;
  /** Recursive ‖r‖/‖b‖ per iteration as the workers reported it (index = iteration). */
  residualHistory: number[];
  label: string;
  /** Local preconditioner each block actually used (from the gather; empty if the solve ended without one). */
  blockPreconditioners: string[];
  detail?: string;
}

export interface Outgoing {
  readonly to: number;
  readonly message: ToWorker;
}
