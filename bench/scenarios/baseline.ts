import { builtBaseline } from "../build.js";
import { cpuTally, pidAccount } from "../cpu.js";
import { assertAllAnswered } from "../load.js";
import type { BenchOptions } from "../options.js";
import type { Figure } from "../report.js";
import { spreadOf, type Spread } from "../stats.js";
import { startChildServer } from "../testbed.js";
import { fixedRateLoad, formatCount, measuredRuns, mebibytes } from "./shared.js";

export interface Baseline {
  readonly spread: Spread;
  readonly figures: Figure[];
}

/** The bare Koa hello-world: what every throughput figure is divided by. */
export async function measureBaseline(options: BenchOptions): Promise<Baseline> {
  const { child, port } = await startChildServer(builtBaseline, "baseline");
  try {
    const origin = `http://127.0.0.1:${port}`;
    const cpu = cpuTally([
      { name: "server", cpuSeconds: () => child.cpuSeconds() },
      pidAccount("load generator", process.pid),
    ]);
    const results = await measuredRuns(
      options,
      { origin, source: { paths: ["/"] }, connections: options.connections },
      (result) => assertAllAnswered(result, 200, "baseline"),
      (run) => cpu.around(run),
    );
    const values = results.map((result) => result.requestsPerSecond);
    const atFixedRate = await measuredRuns(options, fixedRateLoad(origin, ["/"], options), (result) => assertAllAnswered(result, 200, "baseline at a fixed rate"));
    const rss = mebibytes(await child.rssBytes());
    return {
      spread: spreadOf(values),
      figures: [
        { name: "bare Koa hello-world (baseline)", unit: "req/s", values, how: `${options.connections} connections; ${cpu.describe()}` },
        {
          name: `bare Koa p99 at ${formatCount(options.fixedJoinRate)} req/s`,
          unit: "ms",
          values: atFixedRate.map((result) => result.p99),
          how: `the floor of the join latency figure: same load generator, rate and connections`,
        },
        { name: "bare Koa RSS (for scale)", unit: "MB", values: [rss], how: "after its runs, compiled like the balancer" },
      ],
    };
  } finally {
    await child.stop();
  }
}
