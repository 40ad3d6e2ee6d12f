import type { EntryUpdate, RhsUpdate, SystemUpdates } from "./patch.ts";
import type { UpdateBatch, UpdateSource } from "./source.ts";

/**
 * A one-slot mailbox in a SharedArrayBuffer that carries update batches to a solve running synchronously in
 * another thread (the solver Web Worker, a Node worker_thread). A message would wait until the solve
 * returned; shared memory is read by the loop itself, like the cancel flag (workers/solver/cancel-flag.ts).
 *
 * Layout: Int32 header[8] = state, seq, matrix count, rhs count, capacity; then f64 values[capacity],
 * i32 rows[capacity], i32 cols[capacity], u8 modes[capacity]. Matrix entries come first, then rhs entries
 * (index in `rows`). The poster fills the slot with plain stores and publishes it with an atomic store of
 * FULL; the reader's atomic load of FULL therefore sees the whole payload (JS memory model: a seq-cst
 * store/load pair synchronizes).
 */
const EMPTY = 0;
const WRITING = 1;
const FULL = 2;
const CLOSED = 3;
const HEADER_BYTES = 32;
const H_STATE = 0;
const H_SEQ = 1;
const H_MATRIX = 2;
const H_RHS = 3;
const H_CAPACITY = 4;

/** 8192 entries ≈ 136 KiB per solve: a hand-typed or scripted change, not a new matrix. */
export const DEFAULT_MAILBOX_CAPACITY = 8192;

interface Views {
  header: Int32Array;
  values: Float64Array;
  rows: Int32Array;
  cols: Int32Array;
  modes: Uint8Array;
  capacity: number;
}

function views(buffer: SharedArrayBuffer): Views {
  const header = new Int32Array(buffer, 0, 8);
  const capacity = header[H_CAPACITY]!;
  let at = HEADER_BYTES;
  const values = new Float64Array(buffer, at, capacity);
  at += 8 * capacity;
  const rows = new Int32Array(buffer, at, capacity);
  at += 4 * capacity;
  const cols = new Int32Array(buffer, at, capacity);
  at += 4 * capacity;
  const modes = new Uint8Array(buffer, at, capacity);
  return { header, values, rows, cols, modes, capacity };
}

export function createUpdateMailbox(capacity = DEFAULT_MAILBOX_CAPACITY): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(HEADER_BYTES + 17 * capacity);
  new Int32Array(buffer, 0, 8)[H_CAPACITY] = capacity;
  return buffer;
}

/**
 * posted: the batch waits for the loop's next iteration boundary. busy: the previous batch was not taken
 * yet (retry shortly). closed: the solve has returned (re-solve warm instead). too_large: more entries than
 * the mailbox holds.
 */
export type PostResult = "posted" | "busy" | "closed" | "too_large";

/** The poster's side. Never blocks (a page's main thread may not). Index and value checks are the reader's. */
export function postToMailbox(buffer: SharedArrayBuffer, seq: number, updates: SystemUpdates): PostResult {
  const v = views(buffer);
  const matrix = updates.matrix ?? [];
  const rhs = updates.rhs ?? [];
  if (matrix.length + rhs.length > v.capacity) return "too_large";
  const was = Atomics.compareExchange(v.header, H_STATE, EMPTY, WRITING);
  if (was === CLOSED) return "closed";
  if (was !== EMPTY) return "busy";
  matrix.forEach((u, k) => {
    v.rows[k] = u.row;
    v.cols[k] = u.col;
    v.values[k] = u.value;
    v.modes[k] = u.mode === "add" ? 1 : 0;
  });
  rhs.forEach((u, i) => {
    const k = matrix.length + i;
    v.rows[k] = u.index;
    v.values[k] = u.value;
    v.modes[k] = u.mode === "add" ? 1 : 0;
  });
  v.header[H_SEQ] = seq;
  v.header[H_MATRIX] = matrix.length;
  v.header[H_RHS] = rhs.length;
  Atomics.store(v.header, H_STATE, FULL);
  return "posted";
}

/** True once the solve that read this mailbox has returned. */
export function mailboxClosed(buffer: SharedArrayBuffer): boolean {
  return Atomics.load(new Int32Array(buffer, 0, 8), H_STATE) === CLOSED;
}

/** Closes a mailbox nobody will read (e.g. a backend without live updates): posters re-solve warm. */
export function closeMailbox(buffer: SharedArrayBuffer): void {
  mailboxSource(buffer).close();
}

/** The solve's side: an UpdateSource over the mailbox (one atomic load per pending()). */
export function mailboxSource(buffer: SharedArrayBuffer): UpdateSource {
  const v = views(buffer);
  return {
    pending: () => Atomics.load(v.header, H_STATE) === FULL,
    take(): UpdateBatch | null {
      if (Atomics.load(v.header, H_STATE) !== FULL) return null;
      const nm = v.header[H_MATRIX]!;
      const nr = v.header[H_RHS]!;
      const mode = (k: number): "set" | "add" => (v.modes[k] === 1 ? "add" : "set");
      const matrix: EntryUpdate[] = [];
      for (let k = 0; k < nm; k++)
        matrix.push({ row: v.rows[k]!, col: v.cols[k]!, value: v.values[k]!, mode: mode(k) });
      const rhs: RhsUpdate[] = [];
      for (let k = nm; k < nm + nr; k++) rhs.push({ index: v.rows[k]!, value: v.values[k]!, mode: mode(k) });
      const seq = v.header[H_SEQ]!;
      Atomics.store(v.header, H_STATE, EMPTY);
      return { seq, updates: { matrix, rhs } };
    },
    close(): boolean {
      for (;;) {
        const was = Atomics.compareExchange(v.header, H_STATE, EMPTY, CLOSED);
        if (was === EMPTY || was === CLOSED) return true;
        if (was === FULL) return false;
        // WRITING: the poster is between its claim and its publish (a few microseconds): wait for it.
      }
    },
  };
}
