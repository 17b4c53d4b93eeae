import { builtBaseline } from "../build.js";
import { cpuTally, pidAccount } from "../cpu.js";
import { assertAllAnswered, drive } from "../load.js";
import type { BenchOptions } from "../options.js";
import type { Figure } from "../report.js";
import type { Child } from "../processes.js";
import { startChildServer } from "../testbed.js";
import { fixedRateLoad, formatCount, measuredRuns, mebibytes } from "./shared.js";

/**
 * The bare Koa hello-world, what every throughput figure is divided by. It runs for the whole benchmark: each
 * measured throughput run is paired with a baseline run of the same length and connections just before it, so a
 * ratio compares two runs taken side by side on this shared machine, not one figure with another from minutes ago.
 */
export class BaselineServer {
  private readonly pairedRuns: number[] = [];
  private alone: { readonly runs: number[]; readonly cpu: string; readonly p99AtFixedRate: number[] } | undefined;

  private constructor(
    private readonly child: Child,
    readonly origin: string,
  ) {}

  static async start(): Promise<BaselineServer> {
    const { child, port } = await startChildServer(builtBaseline, "baseline");
    return new BaselineServer(child, `http://127.0.0.1:${port}`);
  }

  /** One baseline run to pair with the figure's run that follows; its requests per second. */
  async pairedRun(durationSeconds: number, connections: number): Promise<number> {
    const result = await drive({ origin: this.origin, source: { paths: ["/"] }, connections, durationSeconds });
    assertAllAnswered(result, 200, "baseline");
    this.pairedRuns.push(result.requestsPerSecond);
    return result.requestsPerSecond;
  }

  /**
   * Its own figures: throughput (its own runs at the start, CPU per request from those, then every paired run of
   * the benchmark), latency at the join's fixed rate, and RSS. Call once the figures paired with it are measured.
   */
  async figures(options: BenchOptions): Promise<Figure[]> {
    if (this.alone === undefined) throw new Error("the baseline's own runs come first (measureAlone)");
    const { runs, cpu, p99AtFixedRate } = this.alone;
    const rss = mebibytes(await this.child.rssBytes());
    return [
      {
        name: "bare Koa hello-world (baseline)",
        unit: "req/s",
        values: [...runs, ...this.pairedRuns],
        how: `${options.connections} connections; ${runs.length} runs at the start, then one before each measured throughput run (${this.pairedRuns.length}); ${cpu}`,
      },
      {
        name: `bare Koa p99 at ${formatCount(options.fixedJoinRate)} req/s`,
        unit: "ms",
        values: p99AtFixedRate,
        how: `the floor of the join latency figure: same load generator, rate and connections`,
      },
      { name: "bare Koa RSS (for scale)", unit: "MB", values: [rss], how: "after its runs, compiled like the balancer" },
    ];
  }

  /** The runs at the start: throughput with CPU per request, and p99 at the join's fixed rate. */
  async measureAlone(options: BenchOptions): Promise<void> {
    const cpu = cpuTally([{ name: "server", cpuSeconds: () => this.child.cpuSeconds() }, pidAccount("load generator", process.pid)]);
    const results = await measuredRuns(
      options,
      { origin: this.origin, source: { paths: ["/"] }, connections: options.connections },
      (result) => assertAllAnswered(result, 200, "baseline"),
      (run) => cpu.around(run),
    );
    const atFixedRate = await measuredRuns(options, fixedRateLoad(this.origin, ["/"], options), (result) => assertAllAnswered(result, 200, "baseline at a fixed rate"));
    this.alone = { runs: results.map((result) => result.requestsPerSecond), cpu: cpu.describe(), p99AtFixedRate: atFixedRate.map((result) => result.p99) };
  }

  close(): Promise<void> {
    return this.child.stop();
  }
}
