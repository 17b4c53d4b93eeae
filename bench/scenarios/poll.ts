import { fileURLToPath } from "node:url";
import type { BenchOptions } from "../options.js";
import { cpuProfileFlags, spawnChild, type Child } from "../processes.js";
import type { Figure } from "../report.js";
import { slotCycles, type SlotCycle } from "../pollCycles.js";
import type { CycleReport } from "../servers/poller.js";
import type { Testbed } from "../testbed.js";
import { formatCount } from "./shared.js";

const pollerEntry = fileURLToPath(new URL("../servers/poller.ts", import.meta.url));

/**
 * The cycles of one poller after its first (which starts mid-slot), until it has polled in `runs` slots.
 * A timer that fires a hair before its slot starts runs an empty cycle in the old slot: it reports that slot again.
 */
async function cyclesAfterFirst(child: Child, runs: number): Promise<CycleReport[]> {
  const first = await child.nextMessage<CycleReport>();
  const cycles: CycleReport[] = [];
  const slots = new Set<number>();
  while (slots.size < runs) {
    const report = await child.nextMessage<CycleReport>();
    if (report.slot === first.slot) continue;
    cycles.push(report);
    slots.add(report.slot);
  }
  return cycles;
}

/**
 * Poll cycles of `pollers` poller processes sharing the fleet through leases. After their first cycle every
 * poller starts at the same slot boundary, and the fleet's cycle lasts until the slowest poller is done.
 */
export async function measurePollCycles(bed: Testbed, options: BenchOptions, pollers: number, meetingsPerNode: number): Promise<Figure> {
  const children = Array.from({ length: pollers }, (_, i) =>
    spawnChild({
      entry: pollerEntry,
      name: `poller ${i + 1}`,
      env: { CONFIG_FILE: bed.configFile, REDIS_URL: bed.redisUrl },
      nodeFlags: cpuProfileFlags(options.profileDir, `poller-${i + 1}-of-${pollers}-${bed.fleetSize}-nodes`),
    }),
  );
  let cycles: SlotCycle[];
  try {
    cycles = slotCycles(await Promise.all(children.map((child) => cyclesAfterFirst(child, options.runs))));
  } finally {
    await Promise.all(children.map((child) => child.stop()));
  }
  if (cycles.length === 0) throw new Error(`poll: the ${pollers} pollers shared no slot`);
  const fleet = formatCount(bed.fleetSize);
  const failed = cycles.reduce((sum, cycle) => sum + cycle.failed, 0);
  return {
    name: `poll cycle, ${pollers} poller${pollers === 1 ? "" : "s"}`,
    fleetSize: bed.fleetSize,
    unit: "s",
    values: cycles.map((cycle) => cycle.durationMs / 1000),
    // Two pollers are judged by their shares (about half each), which the description shows.
    ...(pollers === 1 ? { target: { kind: "atMost", value: 5, of: "figure" } as const } : {}),
    how: `${fleet} nodes × ~${meetingsPerNode} meetings; nodes polled per slot: ${cycles.map((cycle) => cycle.shares.join("+")).join(", ")} of ${fleet}; ${failed} failed polls`,
  };
}
