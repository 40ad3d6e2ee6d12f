/** What a faulty host does with the next infer-request. */
export type FaultAction = "serve" | "ignore" | "die";

/** What the fault did so far (the host's stats carry it, so a test can check its precondition: the faulty
 *  host really was sent work, and really misbehaved with it). */
export interface HostFaultSnapshot {
  readonly mode: string;
  /** Infer-requests that reached the host. */
  readonly requests: number;
  readonly corruptedRows: number;
  /** "die-mid-batch": rows of the request it died holding (null while alive). */
  readonly diedHoldingRows: number | null;
}

/**
 * What the expert host asks of an injected fault: a host that misbehaves on purpose, to prove the router
 * survives it. The product never builds one: the page's test code injects faults.ts's under
 * ?test=1&xp-fault=..., unit tests and benches their own. Without one (the default) the host serves honestly.
 */
export interface ExpertHostFault {
  /** Called for every infer-request the host accepts, before it is queued. */
  onRequest(): FaultAction;
  /** The outputs the host will send ([rows, cols]), possibly changed in place. */
  corrupt(output: Float32Array, cols: number): Float32Array;
  /** Set by the host when it dies on a request (onRequest said "die"): the rows of the batch it held. */
  diedHoldingRows: number | null;
  snapshot(): HostFaultSnapshot;
}
