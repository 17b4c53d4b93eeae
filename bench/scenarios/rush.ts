import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import { signQuery } from "../../balancer/src/bbb/checksum.js";
import { parseGetMeetings } from "../../balancer/src/poller/getMeetingsXml.js";
import { keys } from "../../balancer/src/store/keys.js";
import { parseNodeMeetingId } from "../../balancer/src/tenancy/nodeMeetingId.js";
import { builtRushFloor } from "../build.js";
import { cpuTally, type CpuAccount } from "../cpu.js";
import { benchTenants, createPath, fleetNodes, joinPath, meetingId } from "../fleet.js";
import { dispatchOnSchedule } from "../openLoop.js";
import type { BenchOptions } from "../options.js";
import type { Child } from "../processes.js";
import { progress } from "../progress.js";
import type { Figure } from "../report.js";
import { brokenInvariants, checkPlacements, isNotYetCreated, misdirectedJoins, readAnswer, tallyRush, type FleetState, type RushFindings, type RushTally, type Outcome, type RushRecord } from "../rushInvariants.js";
import { describeAnswers, rushFigures, rushFloorFigures, slotPhaseLatencies, type RushFacts } from "../rushReport.js";
import { rushSchedule, type RushSchedule, type RushShape, type ScheduledRequest } from "../rushSchedule.js";
import { spawnBalancer, startApiReplica, startChildServer, startTestbed, type Testbed } from "../testbed.js";
import { formatCount } from "./shared.js";

const tenant = benchTenants.joins;
const replicas = 2;
const pollers = 2;
/** Attendees who arrive early are answered that the meeting does not exist, and try again this much later. */
const retryDelayMs = 1_000;
/** How long after the last scheduled request an early attendee still retries before giving up (then counted). */
const giveUpAfterMs = 30_000;
/**
 * Keep-alive connections from the load generator to each replica, as an ingress keeps to its backends. An open
 * loop needs more than it uses on average, so a burst queues at the server rather than in the client's pool.
 */
const connectionsPerReplica = 64;
const answerTimeoutMs = 10_000;
/** The same rush on every run and machine. */
const scheduleSeed = 2026;
const rushMeetingId = (meeting: number): string => meetingId("rush", meeting);

/** The figures, and every invariant the rush broke (the runner fails when there is one). */
export interface RushResult {
  readonly figures: Figure[];
  readonly broken: string[];
}

function noAnswerReason(error: unknown): string {
  if (error instanceof Error) return "code" in error && typeof error.code === "string" ? error.code : error.name;
  return String(error);
}

/** Every request's path, signed before the run, so the load generator's CPU goes to sending during it. */
function signedPaths(schedule: RushSchedule): Map<ScheduledRequest, string> {
  return new Map(
    schedule.requests.map((request) => [
      request,
      request.kind === "create" ? createPath(tenant, rushMeetingId(request.meeting)) : joinPath(tenant, rushMeetingId(request.meeting), request.attendee),
    ]),
  );
}

/** Sends the schedule to the replicas, open loop, early attendees retrying; answers every request's record. */
async function driveRush(origins: readonly string[], schedule: RushSchedule, shape: RushShape): Promise<RushRecord[]> {
  const paths = signedPaths(schedule);
  const pools = origins.map((origin) => new Pool(origin, { connections: connectionsPerReplica, headersTimeout: answerTimeoutMs, bodyTimeout: answerTimeoutMs }));
  const records: RushRecord[] = [];
  const send = async (request: ScheduledRequest, scheduledAt: number): Promise<RushRecord> => {
    const pool = pools[request.replica]!;
    const sentAt = performance.now();
    let outcome: Outcome;
    try {
      const answer = await pool.request({ method: "GET", path: paths.get(request)! });
      const location = answer.headers["location"];
      outcome = readAnswer(answer.statusCode, typeof location === "string" ? location : undefined, await answer.body.text());
    } catch (error) {
      outcome = { kind: "noAnswer", reason: noAnswerReason(error) };
    }
    const attendee = request.kind === "join" ? { attendee: request.attendee } : {};
    const record: RushRecord = { call: request.kind, meetingId: rushMeetingId(request.meeting), ...attendee, scheduledAt, sentAt, answeredAt: performance.now(), outcome };
    records.push(record);
    return record;
  };
  const startAt = performance.now() + 100;
  const giveUpAt = startAt + shape.durationMs + giveUpAfterMs;
  const joinUntilLetIn = async (request: ScheduledRequest, firstAt: number): Promise<void> => {
    for (let scheduledAt = firstAt; scheduledAt <= giveUpAt; ) {
      const wait = scheduledAt - performance.now();
      if (wait > 0) await sleep(wait);
      const record = await send(request, scheduledAt);
      if (!isNotYetCreated(record.outcome)) return;
      scheduledAt = record.answeredAt + retryDelayMs;
    }
  };
  const inFlight: Array<Promise<unknown>> = [];
  try {
    await dispatchOnSchedule(schedule.requests, startAt, (request, scheduledAt) => {
      inFlight.push(request.kind === "create" ? send(request, scheduledAt) : joinUntilLetIn(request, scheduledAt));
    });
    await Promise.all(inFlight);
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
  return records;
}

/** Waits until the pollers have recorded, for every node, a poll that started after `since` (ms since the epoch). */
async function untilEveryNodePolledAfter(bed: Testbed, pollerChildren: readonly Child[], since: number, timeoutMs: number): Promise<void> {
  const nodeKeys = fleetNodes(bed.fleetSize).map((node) => keys.node("default", node.id));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A poll's record holds when it ended and how long it took: its getMeetings went out at the difference.
    const polls = await Promise.all(nodeKeys.map((key) => bed.redis.hmget(key, "lastPollAt", "lastPollMs")));
    const behind = polls.filter(([at, took]) => at === null || Number(at) - Number(took ?? 0) <= since).length;
    if (behind === 0) return;
    const stopped = pollerChildren.find((child) => !child.isRunning());
    if (stopped !== undefined) throw new Error(`rush: a poller exited:\n${stopped.stderrTail()}`);
    if (Date.now() > deadline) throw new Error(`rush: ${behind} of ${nodeKeys.length} nodes not polled within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** The tenant's meetings as Redis maps them and as each simulated node reports them (its own getMeetings, signed with its secret). */
async function readFleetState(bed: Testbed): Promise<FleetState> {
  const mapped = new Map(Object.entries(await bed.redis.hgetall(keys.meetings(tenant.slug))));
  const simulator = new Pool(bed.simulatorOrigin, { connections: 8 });
  const running = new Map<string, string[]>();
  try {
    const nodes = fleetNodes(bed.fleetSize);
    let next = 0;
    const reader = async (): Promise<void> => {
      for (let node = nodes[next++]; node !== undefined; node = nodes[next++]) {
        const answer = await simulator.request({ method: "GET", path: `/${encodeURIComponent(node.id)}/bigbluebutton/api/getMeetings?${signQuery("getMeetings", "", node.secret, "sha256")}` });
        const parsed = parseGetMeetings(await answer.body.text());
        if (!parsed.ok) throw new Error(`rush: node ${node.id} answered getMeetings with ${parsed.problem}`);
        const ids = parsed.meetings.flatMap((meeting) => {
          const owner = parseNodeMeetingId(meeting.nodeMeetingId);
          return owner?.kind === "readable" && owner.tenant === tenant.slug ? [owner.meetingId] : [];
        });
        running.set(node.id, ids);
      }
    };
    await Promise.all(Array.from({ length: 8 }, reader));
  } finally {
    await simulator.close();
  }
  return { mapped, running };
}

const loadAverage = (): string => loadavg()[0]!.toFixed(1);

/** The rush against the balancer, and the fleet's real state afterwards. */
async function rushAgainstBalancer(options: BenchOptions, shape: RushShape, schedule: RushSchedule): Promise<{ findings: RushFindings; facts: RushFacts }> {
  const { rush } = options;
  progress(`rush: starting Redis, ${formatCount(rush.fleetSize)} simulated nodes, ${replicas} API replicas and ${pollers} pollers`);
  const bed = await startTestbed({ fleetSize: rush.fleetSize, pollIntervalMs: options.pollIntervalMs, profileDir: options.profileDir });
  const children: Child[] = [];
  try {
    const processArgs = { configFile: bed.configFile, redisUrl: bed.redisUrl, profileDir: options.profileDir };
    const second = await startApiReplica({ ...processArgs, name: "api-2" });
    children.push(second.child);
    const pollerChildren = Array.from({ length: pollers }, (_, i) => spawnBalancer({ ...processArgs, name: `poller-${i + 1}`, env: { MODE: "poller", POLLER_ID: `poller-${i + 1}` } }));
    children.push(...pollerChildren);
    const pollWaitMs = 3 * options.pollIntervalMs + 30_000;
    // A rush hits a running fleet: every node known healthy to placement before the first create.
    await untilEveryNodePolledAfter(bed, pollerChildren, 0, pollWaitMs);
    const accounts: CpuAccount[] = [
      { name: "api 1", cpuSeconds: () => bed.balancer.cpuSeconds() },
      { name: "api 2", cpuSeconds: () => second.child.cpuSeconds() },
      ...pollerChildren.map((child, i) => ({ name: `poller ${i + 1}`, cpuSeconds: () => child.cpuSeconds() })),
      ...bed.cpuAccounts.filter((account) => account.name !== "balancer"),
    ];
    const cpu = cpuTally(accounts);
    const loadBefore = loadAverage();
    progress(`rush: ${formatCount(rush.creates)} creates and ${formatCount(rush.joins)} joins within ${rush.durationSeconds} s (load average ${loadBefore})`);
    const { records } = await cpu.around(async () => {
      const driven = await driveRush([bed.origin, second.origin], schedule, shape);
      return { records: driven, sent: driven.length };
    });
    const endedAt = Date.now();
    const loadAfter = loadAverage();
    progress(`rush: ${formatCount(records.length)} requests answered; checking Redis and every node's meetings`);
    const tally = tallyRush(records);
    const atEnd = checkPlacements(tally.createdAt.keys(), await readFleetState(bed));
    await untilEveryNodePolledAfter(bed, pollerChildren, endedAt, pollWaitMs);
    const afterPollState = await readFleetState(bed);
    const findings: RushFindings = {
      tally,
      atEnd,
      afterPoll: checkPlacements(tally.createdAt.keys(), afterPollState),
      settledByPollers: await bed.redis.llen(keys.recentDuplicates()),
      misdirectedJoins: misdirectedJoins(records, afterPollState),
    };
    const facts: RushFacts = {
      fleetSize: rush.fleetSize,
      shape,
      setup: `${replicas} API replicas and ${pollers} pollers (poll interval ${options.pollIntervalMs / 1000} s) on one Redis, ${connectionsPerReplica} keep-alive connections to each replica; machine load average ${loadBefore} before, ${loadAfter} after`,
      cpu: cpu.describe(),
      bySlotPhase: slotPhaseLatencies(records, { timeOrigin: performance.timeOrigin, intervalMs: options.pollIntervalMs }),
    };
    return { findings, facts };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await bed.close();
  }
}

/** The same schedule against the rush floor (`servers/rushFloor.ts`), once the balancer's processes are gone. */
async function rushAgainstFloor(shape: RushShape, schedule: RushSchedule): Promise<RushTally> {
  progress("rush floor: the same schedule against bare Koa answering from memory");
  const floor = await startChildServer(builtRushFloor, "rush floor");
  try {
    const origin = `http://127.0.0.1:${floor.port}`;
    const tally = tallyRush(await driveRush(Array.from({ length: replicas }, () => origin), schedule, shape));
    // The floor is the harness's own server: anything unexpected from it is a bug of the harness, not a finding.
    if (tally.unexpected.size > 0 || tally.attendeesNeverIn > 0) throw new Error(`rush floor: unexpected answers: ${describeAnswers(tally.unexpected)}`);
    return tally;
  } finally {
    await floor.child.stop();
  }
}

/**
 * The top of the hour: Redis, the simulated fleet, two API replicas and two pollers, each the balancer's own
 * compiled entry point in a process of its own; creates and joins on an open-loop schedule; then the fleet's real
 * state (Redis and every node's getMeetings) checked right after the last answer and once every node was polled
 * again. Then the same schedule against the rush floor, for what the machine allowed at that moment.
 */
export async function measureRush(options: BenchOptions): Promise<RushResult> {
  const { rush } = options;
  const shape: RushShape = { durationMs: rush.durationSeconds * 1_000, creates: rush.creates, racingCreates: rush.racingCreates, joins: rush.joins, earlyShare: 1 / 3, replicas };
  const schedule = rushSchedule(shape, scheduleSeed);
  const { findings, facts } = await rushAgainstBalancer(options, shape, schedule);
  const floor = await rushAgainstFloor(shape, schedule);
  return { figures: [...rushFigures(findings, facts), ...rushFloorFigures(floor)], broken: brokenInvariants(findings) };
}
