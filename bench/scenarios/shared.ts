import { setTimeout as sleep } from "node:timers/promises";
import { drive, type LoadArgs, type LoadResult } from "../load.js";
import type { BenchOptions } from "../options.js";
import type { Child } from "../processes.js";
import { progress } from "../progress.js";
import type { Figure } from "../report.js";
import type { Target } from "../stats.js";
import type { BaselineServer } from "./baseline.js";

/** Long enough for requests in flight when a run stops to finish on the server. */
export const settleMs = 500;
export const mebibytes = (bytes: number): number => bytes / 2 ** 20;
export const formatCount = (count: number): string => count.toLocaleString("en-US");

/** One warm-up run (not reported), then `options.runs` measured runs, each checked by `check`. */
export async function measuredRuns(
  options: BenchOptions,
  load: Omit<LoadArgs, "durationSeconds" | "amount">,
  check: (result: LoadResult) => void,
  /** Wraps each measured run (not the warm-up), e.g. to take Redis statistics around it. */
  around: (run: () => Promise<LoadResult>) => Promise<LoadResult> = (run) => run(),
): Promise<LoadResult[]> {
  check(await drive({ ...load, durationSeconds: options.warmupSeconds }));
  const results: LoadResult[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const result = await around(() => drive({ ...load, durationSeconds: options.durationSeconds }));
    check(result);
    progress(`  run ${i + 1}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
    results.push(result);
  }
  return results;
}

/**
 * `measuredRuns`, each measured run preceded by a baseline run of the same length and connections: the runs'
 * results, and the baseline's figure paired with each (for the ratio).
 */
export interface PairedRuns {
  readonly results: LoadResult[];
  readonly baselineRuns: number[];
}

export async function pairedRuns(
  options: BenchOptions,
  baseline: BaselineServer,
  load: Omit<LoadArgs, "durationSeconds" | "amount">,
  check: (result: LoadResult) => void,
  around: (run: () => Promise<LoadResult>) => Promise<LoadResult> = (run) => run(),
): Promise<PairedRuns> {
  const baselineRuns: number[] = [];
  const results = await measuredRuns(options, load, check, async (run) => {
    baselineRuns.push(await baseline.pairedRun(options.durationSeconds, load.connections));
    return around(run);
  });
  return { results, baselineRuns };
}

/** A throughput figure from paired runs: requests per second, and each run's ratio to its baseline run. */
export function throughputFigure(name: string, fleetSize: number, { results, baselineRuns }: PairedRuns, how: string, target?: Target): Figure {
  return { name, fleetSize, unit: "req/s", values: results.map((result) => result.requestsPerSecond), baselineRuns, ...(target === undefined ? {} : { target }), how };
}

/** The highest RSS of `child` sampled while `work` runs. */
export async function peakRss<T>(child: Child, work: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
  let peakBytes = await child.rssBytes();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(200);
      if (sampling) peakBytes = Math.max(peakBytes, await child.rssBytes());
    }
  })();
  try {
    const result = await work();
    return { result, peakBytes };
  } finally {
    sampling = false;
    await sampler;
  }
}

/** A fixed request rate well below saturation: the latency a user of a busy but healthy balancer sees. */
export function fixedRateLoad(origin: string, paths: readonly string[], options: BenchOptions): Omit<LoadArgs, "durationSeconds" | "amount"> {
  return { origin, source: { paths }, connections: options.latencyConnections, overallRate: options.fixedJoinRate };
}
