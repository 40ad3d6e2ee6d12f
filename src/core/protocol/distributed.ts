import { z } from "zod";

/**
 * Everything the coordinator (requester) and the block workers (volunteers) say to each other during a
 * distributed solve. Plain objects with typed arrays, so they cross postMessage/structuredClone as they
 * are; over WebRTC the integrator encodes them with its framing and parses them back through these
 * schemas, which is where a hostile or buggy peer is stopped. Every array and count is bounded.
 *
 * Protocol (see README.md): a worker is initialised with BlockData; then per phase the coordinator sends
 * `restart`, `halo`, `scalars` or `gather`, and the worker answers with `halo`, `dots`, `x` or `error`.
 * `epoch` changes on every restart (failover, drift): messages of an older epoch are ignored; `seq`
 * numbers the halo exchanges inside an epoch so that halos routed peer to peer can be matched.
 */
export const DISTRIBUTED_PROTOCOL_VERSION = 1;

/** Largest block a worker accepts (rows, stored entries, halo entries). */
export const MAX_BLOCK_ROWS = 8_000_000;
export const MAX_BLOCK_NNZ = 128_000_000;
export const MAX_BLOCKS = 256;
/** Most reduction partials / scalars one message carries (BiCGSTAB needs 4). */
export const MAX_SCALARS = 8;
export const MAX_ERROR_CHARS = 512;

const version = z.literal(DISTRIBUTED_PROTOCOL_VERSION);
const blockIndex = z
  .number()
  .int()
  .min(0)
  .max(MAX_BLOCKS - 1);
const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const finite = z.number().refine(Number.isFinite, "must be finite");

function f64Array(maxLength: number) {
  return z
    .instanceof(Float64Array)
    .refine((a) => a.length <= maxLength, `at most ${maxLength} entries`)
    .refine((a) => a.every(Number.isFinite), "every entry must be finite");
}
function i32Array(maxLength: number) {
  return z.instanceof(Int32Array).refine((a) => a.length <= maxLength, `at most ${maxLength} entries`);
}

export const distributedMethodSchema = z.enum(["pcg", "bicgstab"]);
export type DistributedMethod = z.infer<typeof distributedMethodSchema>;
/** Preconditioner of the diagonal block A_II (block-Jacobi: no communication to apply it). */
export const blockPreconditionerSchema = z.enum(["jacobi", "ic0", "ilu0"]);
export type BlockPreconditionerName = z.infer<typeof blockPreconditionerSchema>;

/** Values of `vector` (at this block's rows `exports[toBlock]`) that block `toBlock` needs. */
export const haloPartSchema = z.strictObject({
  fromBlock: blockIndex,
  toBlock: blockIndex,
  epoch: counter,
  seq: counter,
  values: f64Array(MAX_BLOCK_ROWS),
});
export type HaloPart = z.infer<typeof haloPartSchema>;

/**
 * What a worker needs to own block `block`: its rows of A with columns renumbered (0..rows−1 its own
 * rows, rows..rows+haloSize−1 the halo in the order of the global haloCols), b and x for its rows, who
 * owns each halo slot, and which of its local rows each neighbour needs.
 */
export const blockDataSchema = z
  .strictObject({
    v: version,
    block: blockIndex,
    blocks: z.number().int().min(1).max(MAX_BLOCKS),
    method: distributedMethodSchema,
    preconditioner: blockPreconditionerSchema,
    rowStart: z.number().int().min(0),
    rows: z.number().int().min(1).max(MAX_BLOCK_ROWS),
    rowPtr: i32Array(MAX_BLOCK_ROWS + 1),
    colIdx: i32Array(MAX_BLOCK_NNZ),
    values: f64Array(MAX_BLOCK_NNZ),
    b: f64Array(MAX_BLOCK_ROWS),
    x: f64Array(MAX_BLOCK_ROWS),
    haloOwners: i32Array(MAX_BLOCK_ROWS),
    exports: z
      .array(z.strictObject({ block: blockIndex, localRows: i32Array(MAX_BLOCK_ROWS) }))
      .max(MAX_BLOCKS),
  })
  .superRefine((d, ctx) => {
    const bad = (message: string): void => ctx.addIssue({ code: "custom", message });
    const ext = d.rows + d.haloOwners.length;
    if (d.rowPtr.length !== d.rows + 1) bad("rowPtr.length must be rows + 1");
    else if (d.rowPtr[0] !== 0 || d.rowPtr[d.rows] !== d.colIdx.length) bad("rowPtr must span colIdx");
    else if (d.rowPtr.some((v, i) => i > 0 && v < d.rowPtr[i - 1]!)) bad("rowPtr must be non-decreasing");
    if (d.values.length !== d.colIdx.length) bad("values and colIdx differ in length");
    if (d.colIdx.some((c) => c < 0 || c >= ext)) bad(`a column index is outside [0, ${ext})`);
    if (d.b.length !== d.rows || d.x.length !== d.rows) bad("b and x must have one entry per row");
    if (d.block >= d.blocks) bad("block index ≥ block count");
    if (d.haloOwners.some((o) => o < 0 || o >= d.blocks || o === d.block)) bad("bad halo owner");
    for (const e of d.exports) {
      if (e.block === d.block || e.block >= d.blocks) bad("bad export target");
      if (e.localRows.some((r) => r < 0 || r >= d.rows)) bad("an export row is outside the block");
    }
  });
export type BlockData = z.infer<typeof blockDataSchema>;

// ---- coordinator → worker ----

/**
 * Start (or restart) the Krylov recurrence from x: given (and kept as checkpoint `fromCheckpoint` when
 * that is set), else the worker's own checkpoint `fromCheckpoint`, else its current x.
 */
export const restartMessageSchema = z.strictObject({
  v: version,
  type: z.literal("restart"),
  epoch: counter,
  x: f64Array(MAX_BLOCK_ROWS).optional(),
  fromCheckpoint: counter.optional(),
});
/** Every halo part addressed to this block for one exchange (empty when it has no neighbours). */
export const haloMessageSchema = z.strictObject({
  v: version,
  type: z.literal("halo"),
  epoch: counter,
  seq: counter,
  parts: z.array(haloPartSchema).max(MAX_BLOCKS),
});
/** The reduced scalars of this phase; `checkpoint` asks the worker to attach its updated x. */
export const scalarsMessageSchema = z.strictObject({
  v: version,
  type: z.literal("scalars"),
  epoch: counter,
  iteration: counter,
  values: z.array(finite).min(1).max(MAX_SCALARS),
  checkpoint: z.boolean(),
});
export const gatherMessageSchema = z.strictObject({ v: version, type: z.literal("gather"), epoch: counter });

export const toWorkerSchema = z.discriminatedUnion("type", [
  restartMessageSchema,
  haloMessageSchema,
  scalarsMessageSchema,
  gatherMessageSchema,
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;

// ---- worker → coordinator ----

/**
 * Halo parts for neighbours (to route), plus x when a checkpoint was asked (x after `iteration` updates)
 * with the block's recursive residual r at the same point: the coordinator audits the pair (audit.ts).
 */
export const workerHaloSchema = z.strictObject({
  v: version,
  type: z.literal("halo"),
  block: blockIndex,
  epoch: counter,
  seq: counter,
  parts: z.array(haloPartSchema).max(MAX_BLOCKS),
  checkpoint: z
    .strictObject({ iteration: counter, x: f64Array(MAX_BLOCK_ROWS), r: f64Array(MAX_BLOCK_ROWS) })
    .optional(),
});
/** Local partial sums of one reduction, in the method's fixed order. */
export const workerDotsSchema = z.strictObject({
  v: version,
  type: z.literal("dots"),
  block: blockIndex,
  epoch: counter,
  phase: z.number().int().min(0).max(3),
  partials: z.array(finite).min(1).max(MAX_SCALARS),
});
export const workerXSchema = z.strictObject({
  v: version,
  type: z.literal("x"),
  block: blockIndex,
  epoch: counter,
  x: f64Array(MAX_BLOCK_ROWS),
  /** The block's recursive residual with that x (audited like a checkpoint's). */
  r: f64Array(MAX_BLOCK_ROWS),
  /** The local preconditioner actually used (e.g. "jacobi" when IC(0) of the block was impossible). */
  preconditioner: z.string().max(64),
});
export const workerErrorSchema = z.strictObject({
  v: version,
  type: z.literal("error"),
  block: z.number().int().min(-1).max(MAX_BLOCKS),
  /** Set when the error is about a message of this epoch (a stale one gets code "stale"). */
  epoch: counter.optional(),
  code: z.enum([
    "not_initialised",
    "bad_message",
    "out_of_order",
    "stale",
    "no_checkpoint",
    "preconditioner",
  ]),
  message: z.string().max(MAX_ERROR_CHARS),
});

export const fromWorkerSchema = z.discriminatedUnion("type", [
  workerHaloSchema,
  workerDotsSchema,
  workerXSchema,
  workerErrorSchema,
]);
export type FromWorker = z.infer<typeof fromWorkerSchema>;
export type WorkerErrorCode = z.infer<typeof workerErrorSchema>["code"];

/**
 * Payload bytes of a message as a binary framing would send them: 8 per number or typed-array entry of
 * f64, 4 per i32, plus a fixed 16-byte header per object. Used for the per-iteration traffic accounting.
 */
export function messageBytes(value: unknown): number {
  if (value instanceof Float64Array || value instanceof Int32Array) return value.byteLength;
  if (typeof value === "number") return 8;
  if (typeof value === "boolean") return 1;
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.reduce((s: number, v: unknown) => s + messageBytes(v), 0);
  if (value !== null && typeof value === "object") {
    let s = 16;
    for (const v of Object.values(value)) s += messageBytes(v);
    return s;
  }
  return 0;
}
