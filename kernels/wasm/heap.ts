import { WasmKernelError } from "./errors.ts";

const PAGE_BYTES = 65536;
/** Cache-line alignment: vectors never share a line, so threads writing neighbouring ranges of
 *  different vectors do not false-share, and SIMD loads are aligned. */
const ALIGN_BYTES = 64;

/**
 * A bump allocator over one WebAssembly.Memory that JS lays out for the kernels (the AssemblyScript side
 * has no allocator: `--runtime stub`). Nothing is freed before the whole instance is dropped: a Kernels
 * instance lives for one solve (or one matrix), which allocates a handful of vectors.
 *
 * Shared memory grows in place (views made before growth stay valid). Non-shared memory detaches every
 * view on growth, so once a vector view has been handed out it refuses to grow (`memory_fixed`).
 */
export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private top: number;
  private viewsIssued = false;
  /** Every ArrayBuffer/SharedArrayBuffer object `memory.buffer` has returned: a shared memory hands out
   *  a new buffer object after each growth, all aliasing the same bytes. */
  private readonly buffers = new Set<ArrayBufferLike>();
  private readonly onGrowHandlers: (() => void)[] = [];
  /** Views handed out by issueF64: the fast path of `owns` (reading `.buffer` of a view on shared
   *  memory costs tens of ns, on every kernel call). */
  private readonly issued = new WeakSet<ArrayBufferView>();

  constructor(memory: WebAssembly.Memory, shared: boolean, baseBytes: number) {
    this.memory = memory;
    this.shared = shared;
    this.top = alignUp(baseBytes);
    this.buffers.add(memory.buffer);
  }

  get usedBytes(): number {
    return this.top;
  }

  /** Called after the memory grew (non-shared: old views are now detached and must be re-made). */
  onGrow(handler: () => void): void {
    this.onGrowHandlers.push(handler);
  }

  /** Reserves `bytes` (cache-line aligned) and returns the byte offset. Contents are zero only if never
   *  used before, which holds for a bump allocator over fresh memory. */
  alloc(bytes: number): number {
    const ptr = this.top;
    const end = alignUp(ptr + bytes);
    this.ensure(end);
    this.top = end;
    return ptr;
  }

  /** Grows the memory so that at least `endBytes` are addressable. */
  ensure(endBytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (endBytes <= have) return;
    if (!this.shared && this.viewsIssued) {
      throw new WasmKernelError(
        "memory_fixed",
        `need ${endBytes} bytes but the non-shared wasm memory holds ${have} and vectors already exist; ` +
          "register the matrix first or pass memoryBytes",
      );
    }
    // Grow geometrically (≥ 1/8 more) so many small allocations do not grow page by page.
    const wantPages = Math.ceil(Math.max(endBytes, have + have / 8) / PAGE_BYTES);
    const delta = wantPages - have / PAGE_BYTES;
    try {
      this.memory.grow(delta);
    } catch {
      try {
        this.memory.grow(Math.ceil((endBytes - have) / PAGE_BYTES));
      } catch (e) {
        throw new WasmKernelError(
          "out_of_memory",
          `wasm memory cannot grow from ${have} to ${endBytes} bytes: ${(e as Error).message}`,
        );
      }
    }
    this.buffers.add(this.memory.buffer);
    for (const h of this.onGrowHandlers) h();
  }

  /** A view handed to a caller: from now on a non-shared memory may not grow. */
  issueF64(ptr: number, length: number): Float64Array {
    this.viewsIssued = true;
    // Record the buffer object the view is made on: V8 also hands out a fresh buffer object after the
    // memory was posted to another thread, not only after growth.
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    const view = new Float64Array(buffer, ptr, length);
    if (this.shared) this.issued.add(view); // non-shared views can be detached: always check those
    return view;
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** True when `v` views this memory (and, non-shared, has not been detached). */
  owns(v: ArrayBufferView): boolean {
    if (this.issued.has(v)) return true;
    return this.buffers.has(v.buffer) && v.buffer.byteLength > 0;
  }
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES;
}
