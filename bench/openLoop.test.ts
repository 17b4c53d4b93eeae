import { describe, expect, it } from "vitest";
import { dispatchOnSchedule } from "./openLoop.js";

describe("dispatchOnSchedule", () => {
  it("sends every item in order, never before its time, with its scheduled time", async () => {
    const items = [0, 0, 5, 20, 21, 40].map((atMs, index) => ({ atMs, index }));
    const startAt = performance.now() + 10;
    const sent: Array<{ index: number; scheduledAt: number; at: number }> = [];
    await dispatchOnSchedule(items, startAt, (item, scheduledAt) => sent.push({ index: item.index, scheduledAt, at: performance.now() }));
    expect(sent.map((entry) => entry.index)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const entry of sent) {
      expect(entry.scheduledAt).toBe(startAt + items[entry.index]!.atMs);
      expect(entry.at).toBeGreaterThanOrEqual(entry.scheduledAt);
    }
  });

  it("does not wait for what `send` starts: arrivals keep their times while earlier answers are outstanding", async () => {
    const startAt = performance.now();
    const pending: Array<Promise<void>> = [];
    const sentAt: number[] = [];
    await dispatchOnSchedule([{ atMs: 0 }, { atMs: 10 }], startAt, () => {
      sentAt.push(performance.now() - startAt);
      pending.push(new Promise((resolve) => setTimeout(resolve, 200)));
    });
    expect(sentAt[1]).toBeLessThan(150);
    await Promise.all(pending);
  });

  it("refuses a schedule out of time order", async () => {
    await expect(dispatchOnSchedule([{ atMs: 5 }, { atMs: 1 }], performance.now(), () => undefined)).rejects.toThrow(/not in time order at item 1/);
  });
});
