import { formatNumber, type Figure } from "./report.js";
import { duplicateCount, notYetCreatedKey, unmappedCount, type RushFindings, type RushRecord, type RushTally } from "./rushInvariants.js";
import type { RushShape } from "./rushSchedule.js";
import { percentile } from "./stats.js";

/** What the report says about how the rush ran, next to its findings. */
export interface RushFacts {
  readonly fleetSize: number;
  readonly shape: RushShape;
  /** The processes and settings, one phrase. */
  readonly setup: string;
  /** CPU per request of every process, from `cpuTally`. */
  readonly cpu: string;
  /** The answers' latencies split by where in the pollers' slot they were scheduled. */
  readonly bySlotPhase: SlotPhaseLatencies;
}

/** Latencies from the scheduled send time, of requests scheduled in the first tenth of a poll slot and in the rest. */
export interface PhaseLatencies {
  readonly pollBurst: readonly number[];
  readonly rest: readonly number[];
}

export interface SlotPhaseLatencies {
  readonly create: PhaseLatencies;
  readonly join: PhaseLatencies;
}

/** Poll slots are whole multiples of the interval since the epoch (`poller/lease.ts`); records count from `timeOrigin`. */
export interface PollSlotClock {
  readonly timeOrigin: number;
  readonly intervalMs: number;
}

/** Every poller starts its share of the fleet's polls at a slot's start: its first tenth holds the burst. */
const burstShareOfSlot = 0.1;

export function slotPhaseLatencies(records: readonly RushRecord[], clock: PollSlotClock): SlotPhaseLatencies {
  const split = { create: { pollBurst: [] as number[], rest: [] as number[] }, join: { pollBurst: [] as number[], rest: [] as number[] } };
  for (const record of records) {
    const intoSlotMs = (clock.timeOrigin + record.scheduledAt) % clock.intervalMs;
    const phase = intoSlotMs < clock.intervalMs * burstShareOfSlot ? "pollBurst" : "rest";
    split[record.call][phase].push(record.answeredAt - record.scheduledAt);
  }
  return split;
}

const count = (value: number): string => formatNumber(value, 0);
const ms = (value: number): string => formatNumber(value, 1);
const at = (values: readonly number[], q: number): number => (values.length === 0 ? 0 : percentile(values, q));

/** Answers by key, most frequent first, e.g. `join 302: 39,990; join FAILED ...: 12`. */
export function describeAnswers(byKey: ReadonlyMap<string, number>): string {
  return [...byKey]
    .sort(([a, left], [b, right]) => right - left || a.localeCompare(b))
    .map(([key, answers]) => `${key}: ${count(answers)}`)
    .join("; ");
}

export function rushFigures(findings: RushFindings, facts: RushFacts): Figure[] {
  const { tally } = findings;
  const { shape, fleetSize } = facts;
  const seconds = count(shape.durationMs / 1_000);
  const attendees = shape.joins;
  const early = Math.round(shape.joins * shape.earlyShare);
  const retries = tally.joinLatenciesMs.length - attendees;
  const notYet = tally.byKey.get(`join ${notYetCreatedKey}`) ?? 0;
  const sinceSent = (values: readonly number[]): string => `from the hand-off to the HTTP client: p50 ${ms(at(values, 50))} ms, p99 ${ms(at(values, 99))} ms`;
  const bySlotPhase = ({ pollBurst, rest }: PhaseLatencies): string =>
    `scheduled in the first tenth of a poll slot, when the pollers start polling every node: p99 ${ms(at(pollBurst, 99))} ms of ${count(pollBurst.length)}; in the other nine tenths: p99 ${ms(at(rest, 99))} ms`;
  const latency = (name: string, values: readonly number[], q: number, how: string, targetMs?: number): Figure => ({
    name: `rush: ${name} p${q}`,
    fleetSize,
    unit: "ms",
    values: [at(values, q)],
    ...(targetMs === undefined ? {} : { target: { kind: "atMost", value: targetMs, of: "figure" } as const }),
    how,
  });
  const createHow = `${count(tally.createLatenciesMs.length)} creates of ${count(shape.creates - shape.racingCreates)} meetings in ${seconds} s (${count(shape.racingCreates)} racing a create of the same meeting on the other replica), from each one's scheduled send time to its answer; ${facts.setup}`;
  const joinHow = `${count(tally.joinLatenciesMs.length)} join requests in all: ${count(attendees)} attendees, ${count(early)} scheduled before their meeting's create and retrying one second after each not-yet-created answer (${count(retries)} retries, ${count(notYet)} not-yet-created answers, ${count(tally.attendeesAfterRetry)} let in after retrying); every answer counted from its scheduled send time; the load generator's timers handed requests to its HTTP client p99 ${ms(at(tally.sendLagsMs, 99))} ms late; ${facts.cpu}`;
  const duplicates = duplicateCount(findings);
  const unmapped = unmappedCount(findings);
  return [
    latency("create", tally.createLatenciesMs, 50, createHow),
    latency("create", tally.createLatenciesMs, 99, `the same creates; ${sinceSent(tally.createSinceSentMs)}; ${bySlotPhase(facts.bySlotPhase.create)}`, 50),
    latency("join", tally.joinLatenciesMs, 50, joinHow),
    latency("join", tally.joinLatenciesMs, 99, `the same join requests; ${sinceSent(tally.joinSinceSentMs)}; ${bySlotPhase(facts.bySlotPhase.join)}`, 10),
    {
      name: "rush: HTTP 5xx answers",
      fleetSize,
      unit: "answers",
      values: [tally.serverErrors],
      target: { kind: "atMost", value: 0, of: "figure" },
      how: `answers by key: ${describeAnswers(tally.byKey)}`,
    },
    {
      name: "rush: unexpected answers",
      fleetSize,
      unit: "answers",
      values: [[...tally.unexpected.values()].reduce((sum, answers) => sum + answers, 0)],
      target: { kind: "atMost", value: 0, of: "figure" },
      how: `anything but a create's SUCCESS, a join's 302, or a join's not-yet-created answer sent before its meeting's create was answered${tally.unexpected.size === 0 ? "" : `: ${describeAnswers(tally.unexpected)}`}; ${count(tally.attendeesNeverIn)} attendees never let in`,
    },
    {
      name: "rush: meetings on two nodes",
      fleetSize,
      unit: "meetings",
      values: [duplicates],
      target: { kind: "atMost", value: 0, of: "figure" },
      how: `every node's getMeetings, right after the last answer (${count(findings.atEnd.onTwoNodes.length)}) and once every node was polled again (${count(findings.afterPoll.onTwoNodes.length)}); settled by the pollers during the run: ${count(findings.settledByPollers)}`,
    },
    {
      name: "rush: unmapped meetings",
      fleetSize,
      unit: "meetings",
      values: [unmapped],
      target: { kind: "atMost", value: 0, of: "figure" },
      how: `of ${count(tally.createdAt.size)} meetings created: Redis's mapping against the ${count(fleetSize)} nodes' getMeetings, right after the last answer (${count(findings.atEnd.unmapped.length)}) and once every node was polled again (${count(findings.afterPoll.unmapped.length)}); ${count(findings.misdirectedJoins)} joins were sent to a node that does not run the meeting`,
    },
  ];
}

/**
 * The same schedule against the rush floor (bare Koa answering from memory, right after the balancer's run): the
 * p99s the machine and load generator allowed at that moment, next to the balancer's.
 */
export function rushFloorFigures(tally: RushTally): Figure[] {
  const how = (values: readonly number[], call: string): string =>
    `p50 ${ms(at(values, 50))} ms; the same schedule right after the balancer's, against bare Koa answering ${call} from memory in one process (no checksums, Redis, nodes or pollers), the early attendees retrying alike: what this machine and load generator allowed at that moment`;
  return [
    { name: "rush floor: create p99", unit: "ms", values: [at(tally.createLatenciesMs, 99)], how: how(tally.createLatenciesMs, "creates") },
    { name: "rush floor: join p99", unit: "ms", values: [at(tally.joinLatenciesMs, 99)], how: how(tally.joinLatenciesMs, "joins") },
  ];
}
