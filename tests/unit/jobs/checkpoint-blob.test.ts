import { afterEach, describe, expect, it } from "vitest";
import { CheckpointWriter, loadDistCheckpoint } from "../../../src/core/jobs/distributed/checkpoint-blob.ts";
import { cleanup, freshDbName, openRepo, until } from "./runtime-helpers.ts";

// The persisted checkpoint of a distributed solve (jobs/distributed/checkpoint-blob.ts): what is read back
// is either exactly what was written last, or nothing (the solve then starts from zero).

afterEach(cleanup);

const KEY = "dist-checkpoint/job1";

describe("persisted distributed checkpoint", () => {
  it("reads back the last checkpoint written; writes overtaken while one is in flight are skipped", async () => {
    const repo = openRepo(freshDbName());
    const saved: number[] = [];
    const writer = new CheckpointWriter({
      repo,
      jobId: "job1",
      now: () => 1,
      onSaved: (iteration) => saved.push(iteration),
      onError: (error) => {
        throw error;
      },
    });
    for (let it = 10; it <= 50; it += 10) writer.save({ iteration: it, x: Float64Array.of(it, -it, 0.5) });
    await until(() => saved.at(-1) === 50);
    // The first write was in flight; 20–40 were overtaken by 50 before their turn.
    expect(saved).toEqual([10, 50]);
    const cp = await loadDistCheckpoint(repo, "job1", 3);
    expect(cp).toEqual({ iteration: 50, x: Float64Array.of(50, -50, 0.5) });
    writer.stop();
    writer.save({ iteration: 60, x: Float64Array.of(1, 2, 3) });
    expect((await loadDistCheckpoint(repo, "job1", 3))!.iteration).toBe(50); // stopped: nothing more
  });

  it("ignores a checkpoint of another size, format, or with a non-finite entry", async () => {
    const repo = openRepo(freshDbName());
    expect(await loadDistCheckpoint(repo, "job1", 3)).toBeNull(); // none
    const put = (values: number[]) => repo.putBlob(KEY, new Uint8Array(Float64Array.from(values).buffer), 1);
    await put([1, 10, 3, 1, 2, 3]);
    expect(await loadDistCheckpoint(repo, "job1", 3)).not.toBeNull(); // the well-formed control
    expect(await loadDistCheckpoint(repo, "job1", 4)).toBeNull(); // another system size
    await put([2, 10, 3, 1, 2, 3]);
    expect(await loadDistCheckpoint(repo, "job1", 3)).toBeNull(); // unknown format
    await put([1, 10.5, 3, 1, 2, 3]);
    expect(await loadDistCheckpoint(repo, "job1", 3)).toBeNull(); // not an iteration
    await put([1, 10, 3, 1, Number.NaN, 3]);
    expect(await loadDistCheckpoint(repo, "job1", 3)).toBeNull();
    await repo.putBlob(KEY, new Uint8Array(5), 1);
    expect(await loadDistCheckpoint(repo, "job1", 3)).toBeNull(); // not even whole doubles
  });

  it("is deleted with its job", async () => {
    const repo = openRepo(freshDbName());
    await repo.putBlob(KEY, new Uint8Array(Float64Array.of(1, 10, 1, 5).buffer), 1);
    await repo.deleteJob("job1");
    expect(await repo.getBlob(KEY)).toBeUndefined();
  });
});
