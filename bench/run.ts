import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildMeasuredServers } from "./build.js";
import { benchTenants } from "./fleet.js";
import { collectVersions, describeMachine } from "./machine.js";
import { parseOptions, type BenchOptions } from "./options.js";
import { killAllChildren } from "./processes.js";
import { progress } from "./progress.js";
import { renderReport, replaceGenerated, type Figure } from "./report.js";
import { BaselineServer, measureCreates, measureCreatesWithDeadNode, measureGetMeetings, measureJoinLatency, measureJoins, measurePollCycles, measureRefusals, measureRush, seedMeetings } from "./scenarios/index.js";
import { closeOpenTestbeds, startTestbed } from "./testbed.js";

/**
 * `npm run bench`: the baseline (kept running: every throughput run is paired with a baseline run just before it),
 * then for each fleet size a fresh Redis, simulated fleet and balancer, seeded with
 * live meetings through the balancer's own create, then driven with autocannon; then creates while a node dies,
 * and the top-of-the-hour rush on two replicas and two pollers. Writes the report between the result markers of
 * docs/benchmarks.md (full run) or prints it (quick run); exits non-zero when the rush broke an invariant.
 */

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

async function measureFleet(options: BenchOptions, fleetSize: number, baseline: BaselineServer): Promise<Figure[]> {
  const primary = fleetSize === options.primaryFleetSize;
  progress(`fleet of ${fleetSize} nodes: starting Redis, simulator and balancer`);
  const bed = await startTestbed({ fleetSize, pollIntervalMs: options.pollIntervalMs, profileDir: options.profileDir });
  try {
    const joinMeetings = options.liveMeetings - options.listedMeetings;
    progress(`seeding ${options.liveMeetings} live meetings through the balancer's create`);
    await seedMeetings(bed, benchTenants.joins, "m", joinMeetings, options.connections);
    await seedMeetings(bed, benchTenants.listing, "l", options.listedMeetings, options.connections);
    const figures: Figure[] = [];
    progress("join throughput");
    figures.push(...(await measureJoins(bed, options, baseline, joinMeetings, primary)));
    if (primary) {
      progress(`join latency at ${options.fixedJoinRate} req/s`);
      figures.push(await measureJoinLatency(bed, options, joinMeetings));
      progress("getMeetings");
      figures.push(...(await measureGetMeetings(bed, options)));
      const meetingsPerNode = Math.round(options.liveMeetings / fleetSize);
      progress("poll cycle, one poller");
      figures.push(await measurePollCycles(bed, options, 1, meetingsPerNode));
      progress("poll cycle, two pollers");
      figures.push(await measurePollCycles(bed, options, 2, meetingsPerNode));
      progress("refusing unsigned 2 MB bodies");
      figures.push(await measureRefusals(bed, options));
    }
    // Last: creates add meetings, which the figures above are defined without.
    progress("create throughput");
    figures.push(await measureCreates(bed, options, baseline));
    return figures;
  } finally {
    await bed.close();
  }
}

/** `--only refusals`: the refusal figure alone, on a fresh testbed of the primary fleet size (no meetings needed). */
async function measureRefusalsAlone(options: BenchOptions): Promise<Figure[]> {
  progress(`refusals alone: starting Redis, simulator and balancer (${options.primaryFleetSize} nodes)`);
  const bed = await startTestbed({ fleetSize: options.primaryFleetSize, pollIntervalMs: options.pollIntervalMs, profileDir: options.profileDir });
  try {
    return [await measureRefusals(bed, options)];
  } finally {
    await bed.close();
  }
}

/** The figures of a run, and the invariants it found broken (the run then fails once the report is out). */
interface Measured {
  readonly figures: Figure[];
  readonly broken: string[];
}

const figuresOnly = (figures: Figure[]): Measured => ({ figures, broken: [] });

/** What `--only` names, or everything. */
async function measureFigures(options: BenchOptions): Promise<Measured> {
  switch (options.only) {
    case "refusals":
      return figuresOnly(await measureRefusalsAlone(options));
    case "deadNode":
      progress("creates while one node of three is killed");
      return figuresOnly([await measureCreatesWithDeadNode(options)]);
    case "rush":
      return measureRush(options);
    case undefined: {
      const figures = await measureEverything(options);
      progress("creates while one node of three is killed");
      figures.push(await measureCreatesWithDeadNode(options));
      const rush = await measureRush(options);
      return { figures: [...figures, ...rush.figures], broken: rush.broken };
    }
  }
}

function settingsLine(options: BenchOptions): string {
  return [
    `${options.runs} measured runs of ${options.durationSeconds} s per figure after a ${options.warmupSeconds} s warm-up`,
    `autocannon in the runner process; balancer, baseline, simulator and pollers each in a child process`,
    `${options.connections} connections for throughput, ${options.latencyConnections} for latency`,
    `${options.liveMeetings.toLocaleString("en-US")} live meetings seeded by creates`,
    `poll interval ${options.pollIntervalMs / 1000} s`,
  ].join("; ");
}

/** The baseline, then every figure at every fleet size. */
async function measureEverything(options: BenchOptions): Promise<Figure[]> {
  progress(`${options.mode} run: baseline (bare Koa)`);
  const baseline = await BaselineServer.start();
  const figures: Figure[] = [];
  try {
    await baseline.measureAlone(options);
    for (const fleetSize of options.fleetSizes) figures.push(...(await measureFleet(options, fleetSize, baseline)));
    figures.unshift(...(await baseline.figures(options)));
  } finally {
    await baseline.close();
  }
  return figures;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.profileDir !== undefined) await mkdir(options.profileDir, { recursive: true });
  const started = new Date();
  progress("compiling the balancer and the baseline");
  await buildMeasuredServers();
  const { figures, broken } = await measureFigures(options);
  const markdown = renderReport({
    date: started,
    mode: options.mode,
    machine: describeMachine(),
    versions: await collectVersions(),
    settings: settingsLine(options),
    figures,
  });
  process.stdout.write(`${markdown}\n`);
  if (options.outFile !== undefined) {
    const file = resolve(repositoryRoot, options.outFile);
    const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    await writeFile(file, replaceGenerated(existing, markdown));
    progress(`report written to ${options.outFile}`);
  }
  progress(`done in ${Math.round((Date.now() - started.getTime()) / 1000)} s`);
  if (broken.length > 0) {
    // Timing targets are reported, not enforced (a shared machine is noisy); a broken invariant is a bug.
    process.stderr.write(`bench: invariants broken:\n${broken.map((line) => `- ${line}`).join("\n")}\n`);
    process.exitCode = 1;
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllChildren();
    void closeOpenTestbeds().finally(() => process.exit(130));
  });
}

main().catch(async (error: unknown) => {
  killAllChildren();
  await closeOpenTestbeds();
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
