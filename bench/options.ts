/** How much the benchmark measures: the full run for docs/benchmarks.md, or a quick one for CI and smoke tests. */
export interface BenchOptions {
  readonly mode: "full" | "quick";
  /** Repetitions of every measured figure (min/median/max are over these). */
  readonly runs: number;
  /** Length of each measured load run. */
  readonly durationSeconds: number;
  /** An unmeasured run before each scenario's measured ones, so the JIT and connection pools are warm. */
  readonly warmupSeconds: number;
  /** Concurrent connections of the throughput runs (baseline, join, create). */
  readonly connections: number;
  /** Fleet sizes of the sweep; the join and create figures are measured at each. */
  readonly fleetSizes: readonly number[];
  /** The fleet size at which every other figure is measured too. */
  readonly primaryFleetSize: number;
  /** Live meetings in Redis before the join runs, spread over the fleet by real creates. */
  readonly liveMeetings: number;
  /** Of those, the meetings of the tenant whose getMeetings is measured. */
  readonly listedMeetings: number;
  /** The fixed request rate at which the join latency is measured. */
  readonly fixedJoinRate: number;
  /** Concurrent connections of the latency runs (fixed-rate join, getMeetings). */
  readonly latencyConnections: number;
  readonly pollIntervalMs: number;
  /** Write the report here; `undefined` prints it only. */
  readonly outFile: string | undefined;
  /** Write V8 CPU profiles of the balancer and poller processes into this directory. */
  readonly profileDir: string | undefined;
  /** Measure only this figure, at the primary fleet size (`--only`); the report is then printed only. */
  readonly only: Measurement | undefined;
  readonly rush: RushSettings;
}

/** The top-of-the-hour rush (`scenarios/rush.ts`): how many requests arrive within how long, on how many nodes. */
export interface RushSettings {
  readonly fleetSize: number;
  readonly durationSeconds: number;
  /** Create requests, `racingCreates` of them a second create of a meeting racing its first on the other replica. */
  readonly creates: number;
  readonly racingCreates: number;
  /** Attendees joining, a third of them before their meeting's create. */
  readonly joins: number;
}

/** Figures that can be measured on their own. */
export const measurements = ["refusals", "deadNode", "rush"] as const;
export type Measurement = (typeof measurements)[number];

const full: Omit<BenchOptions, "outFile" | "profileDir" | "only"> = {
  mode: "full",
  // Many short runs rather than a few long ones: this machine's speed swings by 2x within a minute, and each run
  // is paired with a baseline run just before it, so the median of many close pairs is what holds still.
  runs: 5,
  durationSeconds: 4,
  warmupSeconds: 2,
  connections: 32,
  fleetSizes: [100, 1_000, 5_000],
  primaryFleetSize: 1_000,
  liveMeetings: 20_000,
  listedMeetings: 2_000,
  fixedJoinRate: 2_000,
  latencyConnections: 16,
  pollIntervalMs: 10_000,
  rush: { fleetSize: 1_000, durationSeconds: 60, creates: 2_000, racingCreates: 200, joins: 40_000 },
};

const quick: Omit<BenchOptions, "outFile" | "profileDir" | "only"> = {
  mode: "quick",
  runs: 2,
  durationSeconds: 2,
  warmupSeconds: 1,
  connections: 16,
  fleetSizes: [10, 50],
  primaryFleetSize: 50,
  liveMeetings: 1_000,
  listedMeetings: 100,
  fixedJoinRate: 500,
  latencyConnections: 8,
  pollIntervalMs: 2_000,
  rush: { fleetSize: 100, durationSeconds: 10, creates: 140, racingCreates: 14, joins: 2_800 },
};

export const usage = `usage: npm run bench -- [--quick] [--fleets <n,n,...>] [--only <figure>] [--out <file>] [--no-write] [--profile <dir>]
  --quick          small fleets, short runs (CI, smoke); prints the report instead of writing docs/benchmarks.md
  --fleets <list>  measure only these fleet sizes (e.g. 1000 while profiling); the report is then printed only
  --only <figure>  measure only this figure (${measurements.join(", ")}); the report is then printed only
  --out <file>     write the report into <file> (between its result markers)
  --no-write       print the report only
  --profile <dir>  run the balancer and pollers with --cpu-prof, profiles into <dir>/<process>/`;

export const defaultReportFile = "docs/benchmarks.md";

export function parseOptions(argv: readonly string[]): BenchOptions {
  let preset = full;
  let outFile: string | undefined | null = null;
  let profileDir: string | undefined;
  let fleetSizes: number[] | undefined;
  let only: Measurement | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new Error(`${arg} needs a value\n${usage}`);
      i += 1;
      return next;
    };
    if (arg === "--quick") preset = quick;
    else if (arg === "--out") outFile = value();
    else if (arg === "--no-write") outFile = undefined;
    else if (arg === "--profile") profileDir = value();
    else if (arg === "--fleets") fleetSizes = parseFleetSizes(value());
    else if (arg === "--only") only = parseMeasurement(value());
    else throw new Error(`unknown argument ${arg}\n${usage}`);
  }
  // A quick or partial run is not worth publishing: only an explicit --out writes it anywhere.
  const complete = preset.mode === "full" && fleetSizes === undefined && only === undefined;
  const resolvedOut = outFile === null ? (complete ? defaultReportFile : undefined) : outFile;
  return { ...preset, ...(fleetSizes === undefined ? {} : { fleetSizes }), outFile: resolvedOut, profileDir, only };
}

function parseMeasurement(name: string): Measurement {
  const known = measurements.find((measurement) => measurement === name);
  if (known === undefined) throw new Error(`--only: expected one of ${measurements.join(", ")}, got ${name}\n${usage}`);
  return known;
}

function parseFleetSizes(list: string): number[] {
  const sizes = list.split(",").map((entry) => Number(entry.trim()));
  if (sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error(`--fleets: expected node counts like 100,1000, got ${list}\n${usage}`);
  return sizes;
}
