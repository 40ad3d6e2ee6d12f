/**
 * Layout of the solver's `state` storage buffer, shared by TypeScript and every WGSL kernel:
 *
 *   struct State { f: array<f32, 12>, u: array<u32, 4>, parts: array<f32> }
 *
 * `f` holds the scalars of the running iteration, `u` the counters/flags (kept as real u32 rather than
 * bit patterns in f32, which a GPU may flush as denormals). `parts` holds `slots` partial-sum arrays of
 * `stride` f32 each: every workgroup writes its own partial (WGSL has no float atomics) and a
 * single-workgroup kernel reduces them. Only the 64-byte header is read back to the CPU.
 */
export const FLOAT_WORDS = 12;
export const HEADER_WORDS = 16;
export const HEADER_BYTES = HEADER_WORDS * 4;

/** Indices into State.f. */
export const H = {
  ALPHA: 0,
  BETA: 1,
  OMEGA: 2,
  /** CG: γ = r·z of the current iterate; BiCGSTAB: ρ = r̂·r. */
  RHO: 3,
  /** CG: δ = w·u; BiCGSTAB: r̂·v. */
  DELTA: 4,
  /** r·r of the current iterate (squared 2-norm of the recursively updated f32 residual). */
  RR: 5,
  RR0: 6,
  /** The GPU stops iterating once RR <= TOL2 * RR0. */
  TOL2: 7,
} as const;

/** Indices into State.u. */
export const HU = { ITER: 0, STATUS: 1, STARTED: 2 } as const;

export const STATUS = { RUNNING: 0, CONVERGED: 1, BREAKDOWN: 2 } as const;

export interface StateLayout {
  /** Partial-sum slots the method uses. */
  readonly slots: number;
  /** f32 words per slot: max(workgroups of a full-vector pass, workgroups of all SpMV blocks). */
  readonly stride: number;
  /** Workgroups of a full-length vector pass: ceil(n / WG). */
  readonly wgFull: number;
  /** Workgroups of all SpMV row blocks together (>= wgFull when blocks do not end on whole workgroups). */
  readonly wgBlocks: number;
  /** Rows each invocation of a row-parallel kernel handles (the WGSL `RPI` constant). */
  readonly rowsPerInvocation: number;
}

export function stateBytes(layout: StateLayout): number {
  return (HEADER_WORDS + layout.slots * layout.stride) * 4;
}

/** The header as the CPU writes it at the start of an inner solve. */
export function encodeHeader(values: Partial<Record<keyof typeof H, number>>, tol2: number): ArrayBuffer {
  const buffer = new ArrayBuffer(HEADER_BYTES);
  const f = new Float32Array(buffer, 0, FLOAT_WORDS);
  for (const [k, v] of Object.entries(values)) f[H[k as keyof typeof H]] = v;
  f[H.TOL2] = tol2;
  return buffer; // u: ITER = STATUS = STARTED = 0
}

/** A decoded header, as read back to the CPU. */
export interface HeaderSnapshot {
  readonly rr: number;
  readonly rr0: number;
  readonly iter: number;
  readonly status: number;
}

export function decodeHeader(buffer: ArrayBuffer): HeaderSnapshot {
  const f = new Float32Array(buffer, 0, FLOAT_WORDS);
  const u = new Uint32Array(buffer, FLOAT_WORDS * 4, HEADER_WORDS - FLOAT_WORDS);
  return { rr: f[H.RR]!, rr0: f[H.RR0]!, iter: u[HU.ITER]!, status: u[HU.STATUS]! };
}
