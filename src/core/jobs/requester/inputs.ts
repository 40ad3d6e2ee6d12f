import type { JobStore } from "../job-store.ts";
import type { CsrMatrix } from "../../sparse/csr.ts";
import { JobError } from "../../protocol/job-errors.ts";
import type { SolveJob } from "../model.ts";
import { decodeCsr, decodeVector } from "../payload.ts";

/**
 * The requester's input blobs (matrix and right-hand sides) of running jobs: their bytes (also in
 * IndexedDB, read back from there after a reload) and their decoded forms, kept for verification and for
 * distributed solves.
 */
export class RequesterInputs {
  readonly #repo: JobStore;
  readonly #inputs = new Map<string, Uint8Array<ArrayBuffer>>();
  readonly #decoded = new Map<string, CsrMatrix | Float64Array>();

  constructor(repo: JobStore) {
    this.#repo = repo;
  }

  /** Keeps a freshly submitted input (bytes and decoded form) so it is not read back from IndexedDB. */
  remember(sha256: string, bytes: Uint8Array<ArrayBuffer>, decoded: CsrMatrix | Float64Array): void {
    this.#inputs.set(sha256, bytes);
    this.#decoded.set(sha256, decoded);
  }

  async bytes(sha256: string): Promise<Uint8Array<ArrayBuffer>> {
    const have = this.#inputs.get(sha256);
    if (have !== undefined) return have;
    const stored = await this.#repo.getBlob(sha256);
    if (stored === undefined) throw new JobError("invalid_state", `input ${sha256} is not stored`);
    const bytes = new Uint8Array(stored);
    this.#inputs.set(sha256, bytes);
    return bytes;
  }

  async matrixOf(sha256: string): Promise<CsrMatrix> {
    const have = this.#decoded.get(sha256);
    if (have !== undefined && !(have instanceof Float64Array)) return have;
    const a = decodeCsr(await this.bytes(sha256));
    this.#decoded.set(sha256, a);
    return a;
  }

  async vectorOf(sha256: string, length: number): Promise<Float64Array> {
    const have = this.#decoded.get(sha256);
    if (have instanceof Float64Array) return have;
    const b = decodeVector(await this.bytes(sha256), length);
    this.#decoded.set(sha256, b);
    return b;
  }

  /** Drops cached inputs no running job uses any more (they stay in IndexedDB). */
  dropUnused(jobs: readonly SolveJob[]): void {
    const used = new Set<string>();
    for (const job of jobs) {
      if (job.status !== "running") continue;
      used.add(job.spec.matrix.sha256);
      for (const r of job.spec.rhs) used.add(r.sha256);
    }
    for (const sha of [...this.#inputs.keys()]) if (!used.has(sha)) this.#inputs.delete(sha);
    for (const sha of [...this.#decoded.keys()]) if (!used.has(sha)) this.#decoded.delete(sha);
  }
}
