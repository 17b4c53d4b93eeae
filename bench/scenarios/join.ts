import { setTimeout as sleep } from "node:timers/promises";
import { verifyChecksum, splitChecksum } from "../../balancer/src/bbb/checksum.js";
import { checksumAlgorithms } from "../../balancer/src/config/schema.js";
import { nodeMeetingId } from "../../balancer/src/tenancy/nodeMeetingId.js";
import { keys } from "../../balancer/src/store/keys.js";
import { builtJoinFloor, builtNaiveJoin } from "../build.js";
import { naiveMeetingKey, type NaiveMeeting } from "../servers/naiveMeeting.js";
import { cpuTally } from "../cpu.js";
import { commandsBetween, describePerRequest, parseCommandStats, totalCalls } from "../commandStats.js";
import { benchTenants, fleetNodes, joinPath, meetingId, simulatedNodeUrl } from "../fleet.js";
import { assertAllAnswered, type LoadResult } from "../load.js";
import type { BenchOptions } from "../options.js";
import { formatNumber, type Figure } from "../report.js";
import { startChildServer, type Testbed } from "../testbed.js";
import type { BaselineServer } from "./baseline.js";
import { fixedRateLoad, formatCount, measuredRuns, mebibytes, pairedRuns, peakRss, settleMs } from "./shared.js";
import { totalLiveMeetings } from "./meetings.js";

/** One join followed through to the node: the server's 302 must carry a URL the node itself accepts. Returns the URL's length. */
async function checkJoinReachesNode(bed: Testbed, origin: string, path: string): Promise<number> {
  const answer = await fetch(`${origin}${path}`, { redirect: "manual" });
  const location = answer.headers.get("location");
  if (answer.status !== 302 || location === null) throw new Error(`join: expected a 302, got ${answer.status}: ${await answer.text()}`);
  const url = new URL(location);
  const nodeId = decodeURIComponent(url.pathname.split("/")[1] ?? "");
  const node = fleetNodes(bed.fleetSize).find((candidate) => candidate.id === nodeId);
  if (node === undefined) throw new Error(`join: redirected outside the fleet: ${location}`);
  const verdict = verifyChecksum({ callName: "join", rawQuery: url.search.slice(1), secrets: [node.secret], allowed: checksumAlgorithms });
  if (!verdict.ok) throw new Error(`join: the node's URL is not signed with the node's secret: ${splitChecksum(url.search.slice(1)).query}`);
  const atNode = await fetch(location, { redirect: "manual" });
  if (!(atNode.headers.get("location") ?? "").includes("sessionToken=")) throw new Error(`join: the node refused the join: ${atNode.headers.get("location")}`);
  return location.length;
}

/** The floor of the balancer's join: bare Koa + the balancer's own meeting lookup on the same Redis + a 302 of the same length. */
async function measureJoinFloor(bed: Testbed, options: BenchOptions, baseline: BaselineServer, locationBytes: number): Promise<Figure> {
  const { child, port } = await startChildServer(builtJoinFloor, "join floor", { REDIS_URL: bed.redisUrl, BENCH_LOCATION_BYTES: String(locationBytes) });
  try {
    const cpu = cpuTally([{ name: "server", cpuSeconds: () => child.cpuSeconds() }, ...bed.cpuAccounts.filter((account) => account.name !== "balancer" && account.name !== "simulator")]);
    const { results, baselineRuns } = await pairedRuns(
      options,
      baseline,
      { origin: `http://127.0.0.1:${port}`, source: { paths: ["/"] }, connections: options.connections },
      (result) => assertAllAnswered(result, 302, "join floor"),
      (run) => cpu.around(run),
    );
    return {
      name: "bare Koa + the balancer's meeting lookup + 302 (join floor)",
      fleetSize: bed.fleetSize,
      unit: "req/s",
      values: results.map((result) => result.requestsPerSecond),
      baselineRuns,
      how: `the balancer's join without its own work (routing, checksums, the node's query, metrics): batched HMGETs, a 302 of the same length; ${options.connections} connections; ${cpu.describe()}`,
    };
  } finally {
    await child.stop();
  }
}

/** The live meetings the joins go to: spread over the tenant's meetings by a prime stride. */
function joinedMeetingIds(joinMeetings: number): string[] {
  const distinct = Math.min(joinMeetings, 1_000);
  return Array.from({ length: distinct }, (_, i) => meetingId("m", (i * 7_919) % joinMeetings));
}

/** Joins to those meetings, each by another attendee. */
function joinPaths(joinMeetings: number): string[] {
  return joinedMeetingIds(joinMeetings).map((id, i) => joinPath(benchTenants.joins, id, i));
}

/** Gives the naive handler its JSON blob for each joined meeting, naming the node the balancer placed it on. */
async function seedNaiveMeetings(bed: Testbed, ids: readonly string[]): Promise<void> {
  const tenant = benchTenants.joins.slug;
  const nodeIds = await bed.redis.hmget(keys.meetings(tenant), ...ids);
  const nodes = new Map(fleetNodes(bed.fleetSize).map((node) => [node.id, node]));
  const blobs = ids.map((id, i): [string, string] => {
    const node = nodes.get(nodeIds[i] ?? "");
    if (node === undefined) throw new Error(`naive join: meeting ${id} is on no node of the fleet`);
    const meeting: NaiveMeeting = { nodeApiUrl: simulatedNodeUrl(bed.simulatorOrigin, node.id), nodeSecret: node.secret, nodeMeetingId: nodeMeetingId(tenant, id) };
    return [naiveMeetingKey(id), JSON.stringify(meeting)];
  });
  await bed.redis.mset(...blobs.flat());
}

/** The calibration: a naive join handler (see `servers/naiveJoin.ts`) answering the same joins on the same Redis. */
async function measureNaiveJoin(bed: Testbed, options: BenchOptions, baseline: BaselineServer, joinMeetings: number): Promise<Figure> {
  await seedNaiveMeetings(bed, joinedMeetingIds(joinMeetings));
  const { child, port } = await startChildServer(builtNaiveJoin, "naive join", { REDIS_URL: bed.redisUrl, BENCH_TENANT_SECRET: benchTenants.joins.secret });
  try {
    const origin = `http://127.0.0.1:${port}`;
    const paths = joinPaths(joinMeetings);
    await checkJoinReachesNode(bed, origin, paths[0]!);
    const cpu = cpuTally([{ name: "server", cpuSeconds: () => child.cpuSeconds() }, ...bed.cpuAccounts.filter((account) => account.name !== "balancer" && account.name !== "simulator")]);
    const { results, baselineRuns } = await pairedRuns(
      options,
      baseline,
      { origin, source: { paths }, connections: options.connections },
      (result) => assertAllAnswered(result, 302, "naive join"),
      (run) => cpu.around(run),
    );
    return {
      name: "naive join handler (the issue's calibration)",
      fleetSize: bed.fleetSize,
      unit: "req/s",
      values: results.map((result) => result.requestsPerSecond),
      baselineRuns,
      how: `Koa, a JSON blob per meeting (GET, JSON.parse), createHash checksums, URLSearchParams, ctx.redirect; the same joins, 302s the node accepts; ${options.connections} connections; ${cpu.describe()}`,
    };
  } finally {
    await child.stop();
  }
}

/** Join throughput, Redis commands per join, and (at the primary fleet size) the balancer's RSS under that load. */
export async function measureJoins(bed: Testbed, options: BenchOptions, baseline: BaselineServer, joinMeetings: number, primary: boolean): Promise<Figure[]> {
  const paths = joinPaths(joinMeetings);
  const locationBytes = await checkJoinReachesNode(bed, bed.origin, paths[0]!);
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
  const { results, baselineRuns } = await pairedRuns(
    options,
    baseline,
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
      baselineRuns,
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
    figures.push(await measureJoinFloor(bed, options, baseline, locationBytes));
    figures.push(await measureNaiveJoin(bed, options, baseline, joinMeetings));
  }
  return figures;
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
