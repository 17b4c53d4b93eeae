import { describe, expect, it } from "vitest";
import { slotCycles } from "./pollCycles.js";
import type { CycleReport } from "./servers/poller.js";

const cycle = (slot: number, polled: number, durationMs: number, failed = 0): CycleReport => ({ type: "cycle", slot, polled, failed, durationMs });

describe("slotCycles", () => {
  it("times the fleet's cycle by the slower of two pollers and shows each one's share", () => {
    const cycles = slotCycles([[cycle(7, 480, 1_900)], [cycle(7, 520, 2_100)]]);
    expect(cycles).toEqual([{ shares: [480, 520], durationMs: 2_100, failed: 0 }]);
  });

  it("does not let an empty cycle (every lease already taken) count as the slot's duration", () => {
    const cycles = slotCycles([[cycle(7, 1_000, 1_500), cycle(7, 0, 9_990)]]);
    expect(cycles).toEqual([{ shares: [1_000], durationMs: 1_500, failed: 0 }]);
  });

  it("leaves out a slot that one poller did not report on", () => {
    const cycles = slotCycles([
      [cycle(7, 500, 2_000), cycle(8, 500, 2_000)],
      [cycle(8, 500, 2_200), cycle(9, 1_000, 3_000)],
    ]);
    expect(cycles).toEqual([{ shares: [500, 500], durationMs: 2_200, failed: 0 }]);
  });

  it("orders the slots in time and adds up the failed polls", () => {
    const cycles = slotCycles([[cycle(9, 1_000, 1_200, 2), cycle(8, 1_000, 1_100, 1)]]);
    expect(cycles.map((slot) => [slot.durationMs, slot.failed])).toEqual([
      [1_100, 1],
      [1_200, 2],
    ]);
  });
});
