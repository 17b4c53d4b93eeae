import { setTimeout as sleep } from "node:timers/promises";
import { verifyChecksum, splitChecksum } from "../balancer/src/bbb/checksum.js";
import { keys } from "../balancer/src/store/keys.js";
import { builtBaseline, builtFixedBody, builtOneRoundTrip } from "./build.js";
import { cpuTally, pidAccount } from "./cpu.js";
import { commandsBetween, describePerRequest, parseCommandStats, totalCalls } from "./commandStats.js";
import { benchTenants, createPath, fleetNodes, getMeetingsPath, joinPath, meetingId, type BenchTenant } from "./fleet.js";
import { assertAllAnswered, drive, type LoadArgs, type LoadResult } from "./load.js";
import type { BenchOptions } from "./options.js";
import { cpuProfileFlags, spawnChild, type Child } from "./processes.js";
import { progress } from "./progress.js";
import { formatNumber, type Figure } from "./report.js";
import { slotCycles, type SlotCycle } from "./pollCycles.js";
import type { CycleReport } from "./servers/poller.js";
import { spreadOf, type Spread } from "./stats.js";
import { startChildServer, type Testbed } from "./testbed.js";
import { fileURLToPath } from "node:url";

/** Long enough for requests in flight when a run stops to finish on the server. */
const settleMs = 500;
const mebibytes = (bytes: number): number => bytes / 2 ** 20;
const formatCount = (count: number): string => count.toLocaleString("en-US");

/** One warm-up run (not reported), then `options.runs` measured runs, each checked by `check`. */
async function measuredRuns(
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

/** The highest RSS of `child` sampled while `work` runs. */
async function peakRss<T>(child: Child, work: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
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
function fixedRateLoad(origin: string, paths: readonly string[], options: BenchOptions): Omit<LoadArgs, "durationSeconds" | "amount"> {
  return { origin, source: { paths }, connections: options.latencyConnections, overallRate: options.fixedJoinRate };
}

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

async function meetingCount(bed: Testbed, tenant: BenchTenant): Promise<number> {
  return bed.redis.hlen(keys.meetings(tenant.slug));
}

/** Creates `count` meetings through the balancer's own API (so Redis holds exactly what the balancer writes). */
export async function seedMeetings(bed: Testbed, tenant: BenchTenant, prefix: string, count: number, connections: number): Promise<void> {
  const before = await meetingCount(bed, tenant);
  let next = 0;
  const result = await drive({
    origin: bed.origin,
    source: { next: () => createPath(tenant, meetingId(prefix, next++)) },
    connections,
    amount: count,
  });
  assertAllAnswered(result, 200, `seeding ${prefix}`);
  const created = (await meetingCount(bed, tenant)) - before;
  if (created !== count) throw new Error(`seeding ${prefix}: ${count} creates answered, but ${created} meetings were stored (some FAILED)`);
}

/** One join followed through to the node: the balancer's 302 must carry a URL the node itself accepts. Returns the URL's length. */
async function checkJoinReachesNode(bed: Testbed, path: string): Promise<number> {
  const answer = await fetch(`${bed.origin}${path}`, { redirect: "manual" });
  const location = answer.headers.get("location");
  if (answer.status !== 302 || location === null) throw new Error(`join: expected a 302, got ${answer.status}: ${await answer.text()}`);
  const url = new URL(location);
  const nodeId = decodeURIComponent(url.pathname.split("/")[1] ?? "");
  const node = fleetNodes(bed.fleetSize).find((candidate) => candidate.id === nodeId);
  if (node === undefined) throw new Error(`join: redirected outside the fleet: ${location}`);
  const verdict = verifyChecksum({ callName: "join", rawQuery: url.search.slice(1), secrets: [node.secret], allowed: ["sha256", "sha1", "sha384", "sha512"] });
  if (!verdict.ok) throw new Error(`join: the node's URL is not signed with the node's secret: ${splitChecksum(url.search.slice(1)).query}`);
  const atNode = await fetch(location, { redirect: "manual" });
  if (!(atNode.headers.get("location") ?? "").includes("sessionToken=")) throw new Error(`join: the node refused the join: ${atNode.headers.get("location")}`);
  return location.length;
}

/** The floor of any one-round-trip join: bare Koa + one HGET on the same Redis + a 302 of the same length. */
async function measureOneRoundTrip(bed: Testbed, options: BenchOptions, baseline: Spread, locationBytes: number): Promise<Figure> {
  const { child, port } = await startChildServer(builtOneRoundTrip, "one round trip", { REDIS_URL: bed.redisUrl, BENCH_LOCATION_BYTES: String(locationBytes) });
  try {
    const cpu = cpuTally([{ name: "server", cpuSeconds: () => child.cpuSeconds() }, ...bed.cpuAccounts.filter((account) => account.name !== "balancer" && account.name !== "simulator")]);
    const results = await measuredRuns(
      options,
      { origin: `http://127.0.0.1:${port}`, source: { paths: ["/"] }, connections: options.connections },
      (result) => assertAllAnswered(result, 302, "one round trip"),
      (run) => cpu.around(run),
    );
    return {
      name: "bare Koa + one Redis HGET + 302 (join floor)",
      fleetSize: bed.fleetSize,
      unit: "req/s",
      values: results.map((result) => result.requestsPerSecond),
      baseline,
      how: `what any join with one Redis round trip costs at least; ${options.connections} connections; ${cpu.describe()}`,
    };
  } finally {
    await child.stop();
  }
}

/** Joins spread over the tenant's live meetings (a prime stride), each by another attendee. */
function joinPaths(joinMeetings: number): string[] {
  const distinct = Math.min(joinMeetings, 1_000);
  return Array.from({ length: distinct }, (_, i) => joinPath(benchTenants.joins, meetingId("m", (i * 7_919) % joinMeetings), i));
}

/** Join throughput, Redis commands per join, and (at the primary fleet size) the balancer's RSS under that load. */
export async function measureJoins(bed: Testbed, options: BenchOptions, baseline: Spread, joinMeetings: number, primary: boolean): Promise<Figure[]> {
  const paths = joinPaths(joinMeetings);
  const locationBytes = await checkJoinReachesNode(bed, paths[0]!);
  const cpu = cpuTally(bed.cpuAccounts);
  const commandsPerJoin: number[] = [];
  const breakdowns: string[] = [];
  const peaks: number[] = [];
  const countCommands = async (run: () => Promise<LoadResult>): Promise<LoadResult> => {
    await sleep(settleMs);
    const before = parseCommandStats(await bed.redis.info("commandstats"));
    const { result, peakBytes } = await peakRss(bed.balancer, () => cpu.around(run));
    await sleep(settleMs);
    const ran = commandsBetween(before, parseCommandStats(await bed.redis.info("commandstats")));
    // Divided by the joins sent: the ones still in flight when the run stopped were served too. That leaves an
    // uncertainty of a few connections' worth in tens of thousands: two decimals are what the count supports.
    commandsPerJoin.push(Math.round((totalCalls(ran) / result.sent) * 100) / 100);
    breakdowns.push(describePerRequest(ran, result.sent));
    peaks.push(mebibytes(peakBytes));
    return result;
  };
  const results = await measuredRuns(
    options,
    { origin: bed.origin, source: { paths }, connections: options.connections },
    (result) => assertAllAnswered(result, 302, "join"),
    countCommands,
  );
  const live = formatCount(await totalLiveMeetings(bed));
  const figures: Figure[] = [
    {
      name: "join throughput",
      fleetSize: bed.fleetSize,
      unit: "req/s",
      values: results.map((result) => result.requestsPerSecond),
      baseline,
      target: { kind: "atLeast", value: 0.6, of: "ratio" },
      how: `302 to the node's re-signed URL; ${live} live meetings; ${options.connections} connections; ${cpu.describe()}`,
    },
    {
      name: "Redis commands per join",
      fleetSize: bed.fleetSize,
      unit: "commands",
      values: commandsPerJoin,
      target: { kind: "atMost", value: 1, of: "figure" },
      how: `from INFO commandstats: ${[...new Set(breakdowns)].join("; ")}`,
    },
  ];
  if (primary) {
    const atStart = formatNumber(mebibytes(bed.startRssBytes), 0);
    figures.push({
      name: "balancer RSS",
      fleetSize: bed.fleetSize,
      unit: "MB",
      values: peaks,
      target: { kind: "atMost", value: 200, of: "figure" },
      how: `peak during each join run, ${live} live meetings; ${atStart} MB at start (no meetings); ${await bed.balancer.openFiles()} open files after the runs`,
    });
    figures.push(await measureOneRoundTrip(bed, options, baseline, locationBytes));
  }
  return figures;
}

async function totalLiveMeetings(bed: Testbed): Promise<number> {
  let total = 0;
  for (const tenant of Object.values(benchTenants)) total += await meetingCount(bed, tenant);
  return total;
}

/** Join latency at a fixed rate well below saturation: what a user sees on a busy but healthy balancer. */
export async function measureJoinLatency(bed: Testbed, options: BenchOptions, joinMeetings: number): Promise<Figure> {
  const paths = joinPaths(joinMeetings);
  const results = await measuredRuns(options, fixedRateLoad(bed.origin, paths, options), (result) => assertAllAnswered(result, 302, "join at a fixed rate"));
  const rate = formatCount(options.fixedJoinRate);
  return {
    name: `join p99 at ${rate} req/s`,
    fleetSize: bed.fleetSize,
    unit: "ms",
    values: results.map((result) => result.p99),
    target: { kind: "atMost", value: 10, of: "figure" },
    how: `autocannon overallRate ${rate}, ${options.latencyConnections} connections; achieved ${results.map((result) => formatCount(Math.round(result.requestsPerSecond))).join(", ")} req/s`,
  };
}

/** Checks that getMeetings lists every meeting of the tenant; returns the answer's size in bytes. */
async function checkGetMeetingsLists(bed: Testbed, path: string, expected: number): Promise<number> {
  const body = await (await fetch(`${bed.origin}${path}`)).text();
  const listed = body.split("<meeting>").length - 1;
  if (!body.includes("<returncode>SUCCESS</returncode>") || listed !== expected) {
    throw new Error(`getMeetings: expected ${expected} meetings, got ${listed}: ${body.slice(0, 300)}`);
  }
  return Buffer.byteLength(body);
}

/** Bare Koa sending a prepared answer of `bytes` bytes: the most any server could do with answers that large. */
async function measureFixedBody(options: BenchOptions, bytes: number): Promise<LoadResult[]> {
  const { child, port } = await startChildServer(builtFixedBody, "fixed-size answer", { BENCH_BODY_BYTES: String(bytes) });
  try {
    return await measuredRuns(options, { origin: `http://127.0.0.1:${port}`, source: { paths: ["/"] }, connections: options.latencyConnections }, (result) =>
      assertAllAnswered(result, 200, "fixed-size answer"),
    );
  } finally {
    await child.stop();
  }
}

export async function measureGetMeetings(bed: Testbed, options: BenchOptions, baseline: Spread): Promise<Figure[]> {
  const tenant = benchTenants.listing;
  const path = getMeetingsPath(tenant);
  const listed = await meetingCount(bed, tenant);
  const bytes = await checkGetMeetingsLists(bed, path, listed);
  const results = await measuredRuns(options, { origin: bed.origin, source: { paths: [path] }, connections: options.latencyConnections }, (result) =>
    assertAllAnswered(result, 200, "getMeetings"),
  );
  const ceiling = await measureFixedBody(options, bytes);
  const size = `${formatCount(Math.round(bytes / 1024))} KiB`;
  const how = `tenant with ${formatCount(listed)} meetings (a ${size} answer), ${options.latencyConnections} connections`;
  return [
    {
      name: "bare Koa, prepared answer of getMeetings' size",
      unit: "req/s",
      values: ceiling.map((result) => result.requestsPerSecond),
      baseline,
      how: `the ceiling for ${size} answers on this machine and load generator; ${options.latencyConnections} connections`,
    },
    {
      name: "getMeetings throughput",
      fleetSize: bed.fleetSize,
      unit: "req/s",
      values: results.map((result) => result.requestsPerSecond),
      baseline,
      target: { kind: "atLeast", value: 1_000, of: "figure" },
      how,
    },
    {
      name: "getMeetings p99",
      fleetSize: bed.fleetSize,
      unit: "ms",
      values: results.map((result) => result.p99),
      target: { kind: "atMost", value: 25, of: "figure" },
      how: `${how}, in the same runs`,
    },
  ];
}

/** Creates of new meetings, each placed and sent to its simulated node: the full create path. */
export async function measureCreates(bed: Testbed, options: BenchOptions, baseline: Spread): Promise<Figure> {
  const tenant = benchTenants.joins;
  const cpu = cpuTally(bed.cpuAccounts);
  const breakdowns: string[] = [];
  let next = 0;
  const results = await measuredRuns(
    options,
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
  return {
    name: "create throughput",
    fleetSize: bed.fleetSize,
    unit: "req/s",
    values: results.map((result) => result.requestsPerSecond),
    baseline,
    target: { kind: "atLeast", value: 0.15, of: "ratio" },
    how: `new meeting IDs, placement + create on the simulated node; ${options.connections} connections; ${cpu.describe()}; Redis commands per create (scripts' own included): ${breakdowns.at(-1) ?? "none"}`,
  };
}

const pollerEntry = fileURLToPath(new URL("./servers/poller.ts", import.meta.url));

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
