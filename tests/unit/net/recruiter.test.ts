import { describe, expect, it } from "vitest";
import type { QueryResult } from "../../../src/core/net/directory-queries.ts";
import { Recruiter, type RecruiterDeps } from "../../../src/core/net/recruiter.ts";
import type { DirectoryPeer } from "../../../src/core/protocol/directory.ts";

/** A directory and mesh stand-in that records calls; each query is answered when the test says so. */
function fakeDeps() {
  const answers: ((result: QueryResult) => void)[] = [];
  const wanted = new Map<string, string>();
  const deps: RecruiterDeps = {
    query: () => new Promise((resolve) => answers.push(resolve)),
    want: (peerId, holder) => void wanted.set(peerId, holder),
    release: (holder) => {
      for (const [peerId, h] of wanted) if (h === holder) wanted.delete(peerId);
    },
  };
  return { deps, answers, wanted };
}

function peers(...ids: string[]): QueryResult {
  return {
    peers: ids.map((peerId) => ({ peerId }) as DirectoryPeer),
    matched: ids.length,
    total: ids.length,
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("recruiter", () => {
  it("queries while there is work, at most once per refresh, keeps earlier picks, releases when done", async () => {
    let now = 0;
    const { deps, answers, wanted } = fakeDeps();
    const recruiter = new Recruiter(deps, {
      holder: "jobs",
      filter: {},
      k: 2,
      refreshMs: 1_000,
      nowMs: () => now,
    });
    recruiter.update(false);
    expect(answers).toHaveLength(0);

    recruiter.update(true);
    recruiter.update(true); // in flight: no second query
    expect(answers).toHaveLength(1);
    answers[0]!(peers("a", "b"));
    await flush();
    expect([...wanted.keys()]).toEqual(["a", "b"]);

    now = 999;
    recruiter.update(true);
    expect(answers).toHaveLength(1);
    now = 1_000;
    recruiter.update(true);
    expect(answers).toHaveLength(2);
    answers[1]!(peers("c"));
    await flush();
    expect(recruiter.peerIds).toEqual(["a", "b", "c"]);

    recruiter.update(false);
    expect(wanted.size).toBe(0);
    expect(recruiter.peerIds).toEqual([]);
  });

  it("wants nobody if the work ended while the query was out", async () => {
    const { deps, answers, wanted } = fakeDeps();
    const recruiter = new Recruiter(deps, { holder: "jobs", filter: {}, k: 2, refreshMs: 1_000 });
    recruiter.update(true);
    recruiter.update(false);
    answers[0]!(peers("a"));
    await flush();
    expect(wanted.size).toBe(0);
  });

  it("queries again soon after queryNow (a newcomer joined), not before soonMs, then back to refreshMs", async () => {
    let now = 0;
    const { deps, answers, wanted } = fakeDeps();
    const recruiter = new Recruiter(deps, {
      holder: "experts",
      filter: {},
      k: 4,
      refreshMs: 15_000,
      soonMs: 1_000,
      nowMs: () => now,
    });
    recruiter.update(true);
    answers[0]!(peers("a"));
    await flush();

    recruiter.queryNow();
    now = 999;
    recruiter.update(true);
    expect(answers).toHaveLength(1);
    now = 1_000;
    recruiter.update(true);
    expect(answers).toHaveLength(2);
    answers[1]!(peers("a", "b"));
    await flush();
    expect([...wanted.keys()]).toEqual(["a", "b"]);

    // The newcomer was found: the next query waits for refreshMs again.
    now = 2_000;
    recruiter.update(true);
    expect(answers).toHaveLength(2);
    now = 16_000;
    recruiter.update(true);
    expect(answers).toHaveLength(3);
  });
});
