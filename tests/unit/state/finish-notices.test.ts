import { describe, expect, it } from "vitest";
import { createFinishNotices, type NotificationApi } from "../../../src/state/jobs/finish-notices.ts";
import type { JobView } from "../../../src/state/jobs/index.ts";

function fakeApi(answer: "granted" | "denied") {
  const shown: string[] = [];
  let asked = 0;
  const api: NotificationApi & { shown: string[]; asked: () => number } = {
    permission: "default",
    requestPermission: () => {
      asked++;
      return Promise.resolve(answer);
    },
    show: (title, body) => shown.push(`${title} | ${body}`),
    shown,
    asked: () => asked,
  };
  return api;
}

const job = (id: string, status: JobView["status"]) =>
  ({ id, name: id, status, unitsDone: 2, unitsTotal: 2, error: null }) as unknown as JobView;

describe("job finish notifications", () => {
  it("asks permission only when ticked, then notifies jobs that left running in this session", async () => {
    const api = fakeApi("granted");
    const notices = createFinishNotices(api, null);
    notices.observe([job("a", "running"), job("old", "done")]);
    expect(api.asked()).toBe(0);
    await notices.getState().setEnabled(true);
    expect(api.asked()).toBe(1);
    notices.observe([job("a", "done"), job("old", "done")]);
    notices.observe([job("a", "done")]);
    expect(api.shown).toHaveLength(1);
    expect(api.shown[0]).toMatch(/“a” finished \| done: 2 of 2/);
  });

  it("stays off when the browser refuses, and never notifies", async () => {
    const api = fakeApi("denied");
    const notices = createFinishNotices(api, null);
    await notices.getState().setEnabled(true);
    expect(notices.getState()).toMatchObject({ enabled: false, permission: "denied" });
    notices.observe([job("a", "running")]);
    notices.observe([job("a", "done")]);
    expect(api.shown).toHaveLength(0);
  });
});
