import type { CycleReport } from "./servers/poller.js";

/** One poll slot of the whole fleet, over every poller. */
export interface SlotCycle {
  /** Nodes polled in the slot by each poller. */
  readonly shares: number[];
  /** Until the last poller that polled anything was done. */
  readonly durationMs: number;
  readonly failed: number;
}

/**
 * The fleet's cycles, one per slot that every poller reported on (a slot one poller missed says nothing about the
 * fleet). A poller's empty cycle (every lease taken, or a timer that fired a hair early) adds no duration.
 */
export function slotCycles(reportsByPoller: readonly CycleReport[][]): SlotCycle[] {
  const slots = [...new Set(reportsByPoller.flat().map((report) => report.slot))]
    .filter((slot) => reportsByPoller.every((reports) => reports.some((report) => report.slot === slot)))
    .sort((a, b) => a - b);
  return slots.map((slot) => {
    const inSlot = reportsByPoller.map((reports) => reports.filter((report) => report.slot === slot));
    const working = inSlot.flat().filter((report) => report.polled > 0);
    return {
      shares: inSlot.map((reports) => reports.reduce((sum, report) => sum + report.polled, 0)),
      durationMs: Math.max(0, ...working.map((report) => report.durationMs)),
      failed: working.reduce((sum, report) => sum + report.failed, 0),
    };
  });
}
