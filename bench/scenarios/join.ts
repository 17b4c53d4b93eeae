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
import { fixedRateLoad, formatCount, measuredRuns, mebibytes, pairedRuns, peakRss, settleMs, throughputFigure } from "./shared.js";
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

/** A reference server answering joins next to the balancer: how it is started, what it is sent, how it is named. */
interface ReferenceJoinServer {
  readonly entry: string;
  readonly label: string;
  readonly env: Record<string, string>;
  readonly paths: readonly string[];
  /** Checks its answer before the runs (e.g. that the node accepts the URL it redirects to). */
  readonly check?: (origin: string) => Promise<unknown>;
  readonly figureName: string;
  readonly how: string;
}

/** Throughput of a reference server on the testbed's Redis, paired with the baseline like the balancer's joins. */
async function measureReferenceJoin(bed: Testbed, options: BenchOptions, baseline: BaselineServer, server: ReferenceJoinServer): Promise<Figure> {
  const { child, port } = await startChildServer(server.entry, server.label, server.env);
  try {
    const origin = `http://127.0.0.1:${port}`;
    await server.check?.(origin);
    const cpu = cpuTally([{ name: "server", cpuSeconds: () => child.cpuSeconds() }, ...bed.cpuAccounts.filter((account) => account.name !== "balancer" && account.name !== "simulator")]);
    const runs = await pairedRuns(
      options,
      baseline,
      { origin, source: { paths: server.paths }, connections: options.connections },
      (result) => assertAllAnswered(result, 302, server.label),
      (run) => cpu.around(run),
    );
    return throughputFigure(server.figureName, bed.fleetSize, runs, `${server.how}; ${options.connections} connections; ${cpu.describe()}`);
  } finally {
    await child.stop();
  }
}

/** The floor of the balancer's join: bare Koa + the balancer's own meeting lookup on the same Redis + a 302 of the same length. */
function measureJoinFloor(bed: Testbed, options: BenchOptions, baseline: BaselineServer, locationBytes: number): Promise<Figure> {
  return measureReferenceJoin(bed, options, baseline, {
    entry: builtJoinFloor,
    label: "join floor",
    env: { REDIS_URL: bed.redisUrl, BENCH_LOCATION_BYTES: String(locationBytes) },
    paths: ["/"],
    figureName: "bare Koa + the balancer's meeting lookup + 302 (join floor)",
    how: "the balancer's join without its own work (routing, checksums, the node's query, metrics): batched HMGETs, a 302 of the same length",
  });
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
  const paths = joinPaths(joinMeetings);
  return measureReferenceJoin(bed, options, baseline, {
    entry: builtNaiveJoin,
    label: "naive join",
    env: { REDIS_URL: bed.redisUrl, BENCH_TENANT_SECRET: benchTenants.joins.secret },
    paths,
    check: (origin) => checkJoinReachesNode(bed, origin, paths[0]!),
    figureName: "naive join handler (the issue's calibration)",
    how: "Koa, a JSON blob per meeting (GET, JSON.parse), createHash checksums, URLSearchParams, ctx.redirect; the same joins, 302s the node accepts",
  });
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
  const runs = await pairedRuns(
    options,
    baseline,
    { origin: bed.origin, source: { paths }, connections: options.connections },
    (result) => assertAllAnswered(result, 302, "join"),
    countCommands,
  );
  const live = formatCount(await totalLiveMeetings(bed));
  const figures: Figure[] = [
    throughputFigure(
      "join throughput",
      bed.fleetSize,
      runs,
      `302 to the node's re-signed URL; ${live} live meetings; ${options.connections} connections; ${cpu.describe()}`,
      { kind: "atLeast", value: 0.6, of: "ratio" },
    ),
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
