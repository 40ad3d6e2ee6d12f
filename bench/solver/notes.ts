import type { CacheLevel } from "./cache.ts";

/** wasm32's address space: all of a wasm instance's arrays (matrix, vectors, triad arrays) share it. */
const WASM32_BYTES = 4 * 1024 ** 3;

function mib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(2)} GiB`
    : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/**
 * What the bandwidth columns mean and what they cannot show; printed with the results and written to the
 * JSON (`notes`), so that a ratio is never read without its reference.
 */
export function bandwidthNotes(llc: CacheLevel | null): string[] {
  const notes = [
    "spmv_gbps counts 12·nnz + 20·n bytes per SpMV (f64 values, i32 column indices and row pointers, x and y " +
      "once each).",
    "triad_gbps is the reference of the spmv/triad target: a STREAM triad a = b + s·c in the same runtime, " +
      "same thread count and same process, on vectors sized so that it moves the SpMV's bytes (24·triad_length " +
      "≈ 12·nnz + 20·n): the same working set, so the same cache level.",
    "spmv_gbps and the triads are steady-state medians: each kernel is called repeatedly in blocks (untimed " +
      "calls first), the blocks of the SpMV and of both triads interleaved in rounds, so load from other " +
      "processes hits all three alike. Repeated calls are what an iterative solver makes; on these VMs an " +
      "80–100 MB working set is only served from L3 after several consecutive calls (6–10 measured).",
    "alt spmv / alt triad (spmv_alternating_gbps, triad_alternating_gbps): the SpMV and the reference triad " +
      "called alternately, one call each. Their arrays together exceed what the L3 keeps, so each call finds " +
      "its data evicted by the other: the cold regime (on these VMs about DRAM speed, roughly half the " +
      "steady state for the n = 10⁶ grids). A kernel that only keeps up with memory when data comes from " +
      "DRAM shows a good alternating ratio and a worse steady one; both are printed.",
    "triad_small_gbps is the same triad on n-length vectors (24·n bytes, 24 MB for n = 10⁶): a third of the " +
      "SpMV's working set or less, so it can run from a cache level the SpMV's arrays do not fit. It is " +
      "listed, not used as the reference: a ratio against it compares two cache levels, not a kernel " +
      "against the memory system.",
    "Both counts follow STREAM's convention and ignore write-allocate: a store that misses cache may first " +
      "read its line, which adds up to 8 bytes per element to the triad's 24 (a third) but only about 8·n to " +
      "the SpMV's 12·nnz + 20·n (≈ 10%); counted in bytes actually moved, spmv/triad would be up to ≈ 1.2× lower.",
    "The eigen rows are timed by bench/eigen/cg_bench.cpp: each kernel's calls back to back (steady state), " +
      "not interleaved with the others, and no alternating pair.",
  ];
  if (llc === null) {
    notes.push(
      "STREAM's rule (each array ≥ 4 × the last-level cache) was not applied: this machine does not report " +
        "its cache sizes (no /sys/devices/system/cpu/cpu0/cache).",
    );
  } else {
    const need = 3 * 4 * llc.bytes;
    const fits = need < WASM32_BYTES;
    notes.push(
      `STREAM's rule (each array ≥ 4 × the last-level cache) was not applied: L${llc.level} here is ` +
        `${mib(llc.bytes)}, so three arrays would take ${mib(need)}, ` +
        (fits
          ? `most of wasm32's 4 GiB address space (shared with the matrix) on a machine shared with other jobs; `
          : `more than wasm32's 4 GiB address space; `) +
        "and it would measure DRAM alone, while the SpMV's working set (≈ 80–100 MB for the n = 10⁶ grids) " +
        "fits that cache: the byte-matched triad measures the same working set, and the alternating columns " +
        "show the cold regime.",
    );
  }
  return notes;
}
