import { setTimeout as sleep } from "node:timers/promises";
import { cpuTally } from "../cpu.js";
import { commandsBetween, describePerRequest, parseCommandStats } from "../commandStats.js";
import { benchTenants, createPath, meetingId } from "../fleet.js";
import { assertAllAnswered } from "../load.js";
import type { BenchOptions } from "../options.js";
import type { Figure } from "../report.js";
import type { Testbed } from "../testbed.js";
import type { BaselineServer } from "./baseline.js";
import { pairedRuns, settleMs, throughputFigure } from "./shared.js";
import { meetingCount } from "./meetings.js";

/** Creates of new meetings, each placed and sent to its simulated node: the full create path. */
export async function measureCreates(bed: Testbed, options: BenchOptions, baseline: BaselineServer): Promise<Figure> {
  const tenant = benchTenants.joins;
  const cpu = cpuTally(bed.cpuAccounts);
  const breakdowns: string[] = [];
  let next = 0;
  const runs = await pairedRuns(
    options,
    baseline,
    { origin: bed.origin, source: { next: () => createPath(tenant, meetingId("new", next++)) }, connections: options.connections },
    (result) => assertAllAnswered(result, 200, "create"),
    async (run) => {
      // Creates still in flight when a run stops finish on the server: let them land before counting.
      await sleep(settleMs);
      const before = await meetingCount(bed, tenant);
      const commandsBefore = parseCommandStats(await bed.redis.info("commandstats"));
      const result = await cpu.around(run);
      await sleep(settleMs);
      const commandsAfter = parseCommandStats(await bed.redis.info("commandstats"));
      breakdowns.push(describePerRequest(commandsBetween(commandsBefore, commandsAfter), result.sent));
      const stored = (await meetingCount(bed, tenant)) - before;
      if (stored < result.completed || stored > result.completed + options.connections) {
        throw new Error(`create: ${result.completed} creates answered but ${stored} meetings stored (some FAILED)`);
      }
      return result;
    },
  );
  return throughputFigure(
    "create throughput",
    bed.fleetSize,
    runs,
    `new meeting IDs, placement + create on the simulated node; ${options.connections} connections; ${cpu.describe()}; Redis commands per create (scripts' own included): ${breakdowns.at(-1) ?? "none"}`,
    { kind: "atLeast", value: 0.15, of: "ratio" },
  );}
