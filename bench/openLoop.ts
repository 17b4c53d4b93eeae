import { setTimeout as sleep } from "node:timers/promises";

/**
 * Sends each item at its scheduled time whatever the answers to earlier ones are doing (an open loop): a slow
 * server does not slow the arrivals, so its queueing shows in the latencies instead of hiding in a lower rate.
 * `send` gets the scheduled time (on the `performance.now()` clock), from which latency is to be counted; it must
 * not wait for the answer. Timers fire a millisecond or so late, and later when this process is starved of CPU:
 * that lateness counts against the server, never in its favour.
 */
export async function dispatchOnSchedule<T extends { readonly atMs: number }>(items: readonly T[], startAt: number, send: (item: T, scheduledAt: number) => void): Promise<void> {
  for (let i = 1; i < items.length; i += 1) if (items[i]!.atMs < items[i - 1]!.atMs) throw new Error(`the schedule is not in time order at item ${i}`);
  let next = 0;
  while (next < items.length) {
    const now = performance.now();
    for (let item = items[next]; item !== undefined && startAt + item.atMs <= now; item = items[next]) {
      next += 1;
      send(item, startAt + item.atMs);
    }
    const upcoming = items[next];
    if (upcoming !== undefined) await sleep(Math.max(0, startAt + upcoming.atMs - performance.now()));
  }
}
